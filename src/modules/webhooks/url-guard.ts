import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { config } from '../../platform/config';
import { BadRequestError } from '../../platform/utils/errors';

/**
 * Where outgoing webhooks may go: https in production, and never to an address that is not a
 * public unicast one (loopback, private, link-local with the cloud metadata service, unique
 * local, carrier-grade NAT, reserved, multicast, unspecified). The URL is checked when it is
 * registered, and the address is checked again when a delivery connects: the connection uses the
 * very address that was checked (a DNS answer that changes in between cannot send it elsewhere).
 * WEBHOOK_ALLOW_PRIVATE_URLS=true lifts the address rule (development, tests).
 */

export function invalidWebhookUrl(why: string): BadRequestError {
  return new BadRequestError('INVALID_WEBHOOK_URL', `This URL cannot receive webhooks: ${why}`);
}

/** Whether an IP address may receive webhooks: only public unicast ones (IPv4-mapped IPv6 judged as IPv4). */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range() === 'unicast';
}

function allowPrivate(): boolean {
  return config.webhooks.allowPrivateUrls;
}

/** The URL's form: http(s), https in production, no credentials in it. */
export function checkUrlForm(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidWebhookUrl('not a URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw invalidWebhookUrl('only http and https URLs');
  if (config.isProduction && parsed.protocol !== 'https:') throw invalidWebhookUrl('https only');
  if (parsed.username || parsed.password) throw invalidWebhookUrl('no credentials in the URL');
  return parsed;
}

/** Checks a URL at registration: its form, and every address its host resolves to. */
export async function checkWebhookUrl(url: string): Promise<void> {
  const parsed = checkUrlForm(url);
  if (allowPrivate()) return;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (ipaddr.isValid(host)) addresses = [host];
  else {
    try {
      addresses = (await dns.promises.lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);
    } catch {
      throw invalidWebhookUrl('its host does not resolve');
    }
  }
  if (addresses.length === 0 || !addresses.every(isPublicAddress)) throw invalidWebhookUrl('it resolves to a private, loopback or reserved address');
}

/**
 * The `lookup` of a delivery's connection: resolves as Node does, and refuses an address that is
 * not public, so the socket connects only to an address that passed.
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) {
      callback(error, '', 0);
      return;
    }
    const list = addresses as dns.LookupAddress[];
    const refused = !allowPrivate() && !list.every((entry) => isPublicAddress(entry.address));
    if (list.length === 0 || refused) {
      callback(Object.assign(new Error(`${hostname} resolves to an address that may not receive webhooks`), { code: 'EWEBHOOKADDRESS' }), '', 0);
      return;
    }
    if ((options as dns.LookupOptions).all) callback(null, list);
    else callback(null, list[0].address, list[0].family);
  });
};
