from ov_movement.cli import main

if __name__ == "__main__":  # not when spawned training workers re-import it as __mp_main__
    raise SystemExit(main())
