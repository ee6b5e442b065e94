from nija.cli.entry import nija

nija(prog_name="nija")
