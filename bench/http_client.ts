/**
 * A minimal HTTP/1.1 client for the load generator: one keep-alive TCP
 * connection, one request at a time, bodies read as bytes and never
 * decompressed. That is what wrk does, and what makes the figures the
 * server's: `fetch` inflates every gzip answer it gets, and on a 2-core
 * machine inflating 430 KB dashboards a thousand times a second took more
 * CPU than the server spent sending them.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const CRLF_CRLF = [13, 10, 13, 10];

export interface RawResponse {
  status: number;
  /** Header names in lower case. */
  headers: Map<string, string>;
  /** The body as sent (still gzip when the server compressed it). */
  body: Uint8Array<ArrayBuffer>;
}

export class HttpConnection {
  readonly #hostname: string;
  readonly #port: number;
  #conn: Deno.TcpConn | null = null;
  /** Bytes read from the socket and not yet consumed, in `#buffer[#start, #end)`. */
  #buffer: Uint8Array<ArrayBuffer> = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;

  constructor(origin: string) {
    const url = new URL(origin);
    this.#hostname = url.hostname;
    this.#port = Number(url.port || 80);
  }

  /** Sends one request and reads its whole answer; a broken connection is dropped and the error thrown. */
  async request(
    method: string,
    path: string,
    headers: Record<string, string> = {},
    body?: string,
  ): Promise<RawResponse> {
    try {
      if (!this.#conn) {
        this.#conn = await Deno.connect({ hostname: this.#hostname, port: this.#port });
        this.#conn.setNoDelay(true);
      }
      const payload = body === undefined ? null : encoder.encode(body);
      let head = `${method} ${path} HTTP/1.1\r\nhost: ${this.#hostname}:${this.#port}\r\n`;
      for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
      if (payload) head += `content-length: ${payload.byteLength}\r\n`;
      // One write: a head and a body sent apart can wait on delayed ACKs.
      const headBytes = encoder.encode(`${head}\r\n`);
      const request = new Uint8Array(headBytes.byteLength + (payload?.byteLength ?? 0));
      request.set(headBytes);
      if (payload) request.set(payload, headBytes.byteLength);
      await this.#write(request);
      const response = await this.#readResponse();
      if (response.headers.get("connection")?.toLowerCase() === "close") this.close();
      return response;
    } catch (error) {
      this.close();
      throw error;
    }
  }

  close(): void {
    try {
      this.#conn?.close();
    } catch {
      // Already closed.
    }
    this.#conn = null;
    this.#start = this.#end = 0;
  }

  async #write(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.byteLength) written += await this.#conn!.write(bytes.subarray(written));
  }

  /** Reads more from the socket into the buffer; false at end of stream. Live bytes may move to index 0. */
  async #fill(): Promise<boolean> {
    if (this.#start === this.#end) this.#start = this.#end = 0;
    if (this.#end === this.#buffer.byteLength) {
      const live = this.#end - this.#start;
      if (live * 2 > this.#buffer.byteLength) {
        const grown = new Uint8Array(this.#buffer.byteLength * 2);
        grown.set(this.#buffer.subarray(this.#start, this.#end));
        this.#buffer = grown;
      } else {
        this.#buffer.copyWithin(0, this.#start, this.#end);
      }
      this.#start = 0;
      this.#end = live;
    }
    const read = await this.#conn!.read(this.#buffer.subarray(this.#end));
    if (read === null) return false;
    this.#end += read;
    return true;
  }

  /** Index (absolute, in the buffer) where `pattern` starts, reading until it appears. */
  async #find(pattern: number[]): Promise<number> {
    let from = this.#start;
    while (true) {
      for (let i = from; i + pattern.length <= this.#end; i++) {
        let match = true;
        for (let j = 0; j < pattern.length; j++) {
          if (this.#buffer[i + j] !== pattern[j]) {
            match = false;
            break;
          }
        }
        if (match) return i;
      }
      const consumedBefore = this.#start;
      from = Math.max(this.#start, this.#end - pattern.length + 1);
      if (!await this.#fill()) throw new Error("the connection closed in the middle of a response");
      // A fill may move the live bytes to the start of a new buffer.
      from -= consumedBefore - this.#start;
    }
  }

  /** Takes `length` bytes, reading until they are there. */
  async #take(length: number): Promise<Uint8Array<ArrayBuffer>> {
    while (this.#end - this.#start < length) {
      if (!await this.#fill()) throw new Error("the connection closed in the middle of a body");
    }
    const bytes = this.#buffer.slice(this.#start, this.#start + length);
    this.#start += length;
    return bytes;
  }

  async #line(): Promise<string> {
    const at = await this.#find([13, 10]);
    const text = decoder.decode(this.#buffer.subarray(this.#start, at));
    this.#start = at + 2;
    return text;
  }

  async #readResponse(): Promise<RawResponse> {
    const headEnd = await this.#find(CRLF_CRLF);
    const lines = decoder.decode(this.#buffer.subarray(this.#start, headEnd)).split("\r\n");
    this.#start = headEnd + 4;
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1]);
    if (!status) throw new Error(`not an HTTP response: ${lines[0].slice(0, 80)}`);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const length = headers.get("content-length");
    if (length !== undefined) return { status, headers, body: await this.#take(Number(length)) };
    if (headers.get("transfer-encoding")?.toLowerCase().includes("chunked")) {
      const chunks: Uint8Array<ArrayBuffer>[] = [];
      while (true) {
        const size = parseInt(await this.#line(), 16);
        if (!Number.isFinite(size)) throw new Error("a malformed chunk size");
        if (size === 0) {
          while ((await this.#line()) !== "") {
            // Trailers: none are used.
          }
          break;
        }
        chunks.push(await this.#take(size));
        await this.#take(2);
      }
      const body = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0));
      let offset = 0;
      for (const chunk of chunks) {
        body.set(chunk, offset);
        offset += chunk.byteLength;
      }
      return { status, headers, body };
    }
    if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
      return { status, headers, body: new Uint8Array(0) };
    }
    // No length: the body runs to the end of the connection.
    while (await this.#fill()) {
      // Read until the server closes.
    }
    const body = this.#buffer.slice(this.#start, this.#end);
    this.close();
    return { status, headers, body };
  }
}
