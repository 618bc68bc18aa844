"""Entry point of bench/realtime; everything is in benchlib/realtime.py."""

from benchlib.realtime import main

if __name__ == "__main__":
    main()
