import type { Challenge } from '../protocol/challenge.js';
import type { Quote } from '../select.js';

/**
 * What looks wrong with a 2xx answer to a paid request (THREATS F6, fake delivery): `empty`, no
 * content at all (204/205, `Content-Length: 0`, or no body); `unexpected_type`, a `Content-Type`
 * other than the media type the 402 announced for the resource (an error page served with 200).
 */
export type DeliveryProblem = 'empty' | 'unexpected_type';

/** `type/subtype` of a media type, lower case, without parameters; undefined when it is not one. */
function mediaType(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const type = value.split(';', 1)[0]!.trim().toLowerCase();
  return /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+*-]+$/.test(type) ? type : undefined;
}

/** The media type the 402 announced for the resource: v2 `resource.mimeType`, v1 the option's `mimeType`. */
function announcedType(quote: Quote, challenge: Challenge | undefined): string | undefined {
  const type = mediaType(quote.version === 1 ? quote.option.wire['mimeType'] : challenge?.resource?.['mimeType']);
  return type === '*/*' ? undefined : type;
}

/**
 * Judges a 2xx answer to a paid request from its head alone (the body is the caller's, unread):
 * undefined when it looks like a delivery, or when nothing can be told (a `HEAD` request, no
 * announced type, no `Content-Type`). A report for the caller, never a reason to pay again.
 *
 * @example
 * ```ts
 * import { deliveryProblem } from './deliveryProblem.js';
 * deliveryProblem(new Response(null, { status: 204 }), 'GET', quote, challenge); // 'empty'
 * ```
 */
export function deliveryProblem(response: Response, method: string, quote: Quote, challenge: Challenge | undefined): DeliveryProblem | undefined {
  if (method === 'HEAD') return undefined;
  if (response.status === 204 || response.status === 205 || response.body === null || response.headers.get('content-length')?.trim() === '0') return 'empty';
  const announced = announcedType(quote, challenge);
  const served = mediaType(response.headers.get('content-type'));
  if (announced === undefined || served === undefined) return undefined;
  const matches = announced.endsWith('/*') ? served.startsWith(announced.slice(0, -1)) : served === announced;
  return matches ? undefined : 'unexpected_type';
}
