/*
 * Address families (Linux, x86_64): `ntop(AF_INET6, args.saddr_v6)`, `args.family == AF_INET`.
 * Compiled into rdt; any script can use these names.
 * Syntax: `inline int NAME = VALUE;` (D's inline constants), one per line.
 */

inline int AF_UNSPEC = 0;
inline int AF_UNIX = 1;
inline int AF_INET = 2;
inline int AF_INET6 = 10;
inline int AF_NETLINK = 16;
inline int AF_PACKET = 17;
