from app.cli import main

# The program name in usage lines is the installed command, not "python -m app".
main(prog_name="usersecrets")
