import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, errorMessage, request } from './client';

function respond(status: number, body: unknown) {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  vi.stubGlobal('fetch', vi.fn(async () => new Response(status === 204 ? null : text, { status })));
}

afterEach(() => vi.unstubAllGlobals());

describe('request', () => {
  it('returns parsed JSON and sends query parameters and bodies', async () => {
    respond(200, { ok: 1 });
    await expect(request('POST', '/api/x', { body: { a: 1 }, query: { limit: 50, skip: undefined } })).resolves.toEqual({ ok: 1 });
    const [url, init] = (fetch as unknown as ReturnType<typeof vi.fn>).mock.calls[0]!;
    expect(url).toBe('/api/x?limit=50');
    expect(init.body).toBe('{"a":1}');
    expect(init.credentials).toBe('same-origin');
  });
  it('turns the API error shape into an ApiError with the server message and field', async () => {
    respond(422, { error: { code: 'validation_failed', message: 'email: must be an email address', field: 'email' } });
    const e = await request('POST', '/api/auth/signup').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({ status: 422, code: 'validation_failed', field: 'email' });
    expect(errorMessage(e)).toBe('email: must be an email address');
  });
  it('never shows a raw 5xx body', async () => {
    respond(502, '<html>bad gateway</html>');
    const e = await request('GET', '/api/me').catch((x: unknown) => x);
    expect(errorMessage(e)).toBe('The server had a problem answering. Try again in a moment.');
  });
  it('resolves 204 to undefined', async () => {
    respond(204, undefined);
    await expect(request('DELETE', '/api/x')).resolves.toBeUndefined();
  });
  it('reports an unreachable server', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))));
    const e = await request('GET', '/api/me').catch((x: unknown) => x);
    expect(e).toMatchObject({ status: 0, code: 'network' });
  });
});
