from apollospace_refserver.cli import main

raise SystemExit(main())
