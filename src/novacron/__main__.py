from novacron.cli import main

main()
