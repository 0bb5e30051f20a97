from chalicelib.cli.main import main

main()
