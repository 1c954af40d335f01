// The header server.ts sets from the socket's address on every request (any client-sent value is
// overwritten), so rate limiting and audit see the real peer.
export const CLIENT_IP_HEADER = "x-anvil-client-ip";
