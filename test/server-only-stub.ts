// Stand-in for Next's "server-only" marker module when server code runs under vitest.
export {};
