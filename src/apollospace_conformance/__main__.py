from apollospace_conformance.cli import main

raise SystemExit(main())
