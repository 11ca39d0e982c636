from ov_movement.cli import main

raise SystemExit(main())
