from mailer.cli import cli

cli()
