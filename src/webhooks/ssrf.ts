/**
 * SSRF protection for webhook delivery (SEP-3415 "Webhook security"): a callback host is resolved
 * at delivery time, every resolved address is checked against the IANA IPv4 and IPv6
 * Special-Purpose Address Registries (loopback, private, link-local, shared, documentation,
 * benchmarking, multicast, reserved, NAT64/6to4/Teredo, unique-local), and the connection goes to
 * the address that was checked. Ranges live in a `node:net` `BlockList`. Node-only.
 * @module
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** One resolved address. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to its addresses (`dns.lookup(host, { all: true })` by default; tests stub it). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** The default resolver: the system's (`dns.lookup` with `all: true`). */
export const systemResolver: Resolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

const V4: [string, number][] = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // shared address space (CGN)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.31.196.0', 24], // AS112-v4
  ['192.52.193.0', 24], // AMT
  ['192.88.99.0', 24], // deprecated 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['192.175.48.0', 24], // direct delegation AS112
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and 255.255.255.255 broadcast
];
const V6: [string, number][] = [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['64:ff9b::', 96], // NAT64
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard-only
  ['2001::', 23], // IETF protocol assignments (Teredo, ORCHID, ...)
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4
  ['3fff::', 20], // documentation
  ['5f00::', 16], // SRv6 SIDs
  ['fc00::', 7], // unique-local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
];

const BLOCKED = new BlockList();
for (const [net, prefix] of V4) BLOCKED.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of V6) BLOCKED.addSubnet(net, prefix, 'ipv6');

/** True when `address` is globally routable (not in a special-purpose range). */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  if (family === 4) return !BLOCKED.check(address, 'ipv4');
  // BlockList matches IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) against the IPv4 ranges too.
  return !BLOCKED.check(address.toLowerCase(), 'ipv6');
}

/** Thrown when a callback URL or its resolved address is refused. */
export class WebhookTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookTargetError';
  }
}

/**
 * Resolves `hostname` and returns the first address that may be connected to. Without
 * `allowPrivate`, any resolved address in a special-purpose range refuses the whole host (an
 * attacker's DNS may mix public and private answers).
 * @throws WebhookTargetError when nothing may be connected to
 */
export async function resolveTarget(
  hostname: string,
  resolver: Resolver,
  allowPrivate: boolean,
): Promise<ResolvedAddress> {
  const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  const literal = isIP(bare);
  const addresses: ResolvedAddress[] = literal
    ? [{ address: bare, family: literal === 6 ? 6 : 4 }]
    : await resolver(bare).catch((e: unknown) => {
        throw new WebhookTargetError(`cannot resolve ${bare}: ${(e as Error).message}`);
      });
  if (addresses.length === 0) throw new WebhookTargetError(`cannot resolve ${bare}: no addresses`);
  if (!allowPrivate) {
    const refused = addresses.find((a) => !isPublicAddress(a.address));
    if (refused)
      throw new WebhookTargetError(
        `refused: ${bare} resolves to ${refused.address}, a special-purpose address (allowInsecureWebhookTargets permits it)`,
      );
  }
  return addresses[0]!;
}
