from stsvend_cli.main import main

main()
