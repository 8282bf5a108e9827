"""`python -m simulator [--port 8765] [--host 127.0.0.1] [--verbose]`: serve until SIGTERM/SIGINT."""
import argparse

from simulator.server import serve


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to bind; 0 picks a free one")
    # Quiet by default: callers often pipe our output, read the first line and nothing more, and
    # a pipe nobody drains would block the server once its buffer fills with request logs.
    logging = parser.add_mutually_exclusive_group()
    logging.add_argument("--verbose", "-v", action="store_true",
                         help="log every request and every fault that fires to stderr")
    logging.add_argument("--quiet", "-q", action="store_true", help="no request log (the default)")
    args = parser.parse_args(argv)
    serve(host=args.host, port=args.port, quiet=not args.verbose)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
