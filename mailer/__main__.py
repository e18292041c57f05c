from mailer import main

main()
