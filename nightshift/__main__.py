"""python -m nightshift"""

from nightshift.cli import main

main()
