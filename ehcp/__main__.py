from ehcp.cli import main

main()
