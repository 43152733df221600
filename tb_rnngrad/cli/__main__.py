"""`python -m tb_rnngrad.cli`: the `tb-rnngrad` command."""

from tb_rnngrad.cli import main

raise SystemExit(main())
