from glas_convert.cli import main

main()
