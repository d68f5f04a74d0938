from connectors.cli import main

raise SystemExit(main())
