from __future__ import annotations

from scanner import main

raise SystemExit(main())
