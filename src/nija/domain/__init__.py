"""The pure domain core: states, rules, diagnosis and errors. No I/O, no clock."""
