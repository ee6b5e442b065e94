from nija.cli.main import nija

nija(prog_name="nija")
