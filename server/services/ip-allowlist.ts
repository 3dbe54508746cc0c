// IP allowlists (CIDR) for Team Members and Administrators.
import ipaddr from 'ipaddr.js';

/** Whether `cidr` is a valid IPv4 or IPv6 range ("10.0.0.0/8", "2001:db8::/32") or single address. */
export function isValidCidr(cidr: string): boolean {
  try {
    if (cidr.includes('/')) ipaddr.parseCIDR(cidr);
    else ipaddr.parse(cidr);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `ip` is inside one of `allowlist`. An empty list allows everyone; an unknown address is
 * allowed only by an empty list. IPv4-mapped IPv6 addresses (::ffff:1.2.3.4) count as IPv4.
 */
export function isIpAllowed(ip: string | null, allowlist: readonly string[]): boolean {
  if (allowlist.length === 0) return true;
  if (!ip || !ipaddr.isValid(ip)) return false;
  let address = ipaddr.parse(ip);
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) address = (address as ipaddr.IPv6).toIPv4Address();
  return allowlist.some((entry) => {
    try {
      const [range, bits] = entry.includes('/') ? ipaddr.parseCIDR(entry) : [ipaddr.parse(entry), address.kind() === 'ipv4' ? 32 : 128];
      return range.kind() === address.kind() && address.match(range, bits);
    } catch {
      return false;
    }
  });
}
