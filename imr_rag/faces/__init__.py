"""The outer layer: the command line (parser, commands, output), the app's service, doctor, the
highlighted letter page and progress display. May import any part; no other part imports it."""
