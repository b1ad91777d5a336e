// A headless Chromium driven over the DevTools protocol (CDP) on its WebSocket, for the tests that
// open report.html in a real browser (tests/report_browser_test.ts). Started offline: no
// background networking, component updates, sync or first-run work, and a fresh profile folder,
// so it never reaches the network on its own.

/** Chromium's executable: $CHROMIUM, else chromium, chromium-browser or google-chrome on PATH. */
export function findChromium(): string | null {
  const own = Deno.env.get("CHROMIUM");
  const names = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];
  const dirs = (Deno.env.get("PATH") ?? "").split(":").filter((d) => d !== "");
  for (
    const path of [
      ...(own ? [own] : []),
      ...dirs.flatMap((d) => names.map((n) => `${d}/${n}`)),
    ]
  ) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch { /* not here */ }
  }
  return null;
}

/** The flags every start uses (the profile folder and debugging port are added per start). */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--no-default-browser-check",
  "--disable-dev-shm-usage",
  "--hide-scrollbars",
] as const;

type Message = {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  sessionId?: string;
  result?: Record<string, unknown>;
  error?: { message: string };
};

/** One DevTools connection (the browser's), with flat sessions for pages. */
class Connection {
  #id = 0;
  #pending = new Map<number, { resolve: (v: Message) => void; reject: (e: Error) => void }>();
  readonly events: Message[] = [];
  #waiters: { test: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.onmessage = (e) => {
      const msg = JSON.parse(e.data as string) as Message;
      if (msg.id !== undefined) {
        const p = this.#pending.get(msg.id);
        this.#pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(`CDP: ${msg.error.message}`));
        else p?.resolve(msg);
        return;
      }
      this.events.push(msg);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.test(msg)) return true;
        w.resolve(msg);
        return false;
      });
    };
    ws.onclose = () => {
      for (const p of this.#pending.values()) p.reject(new Error("CDP: connection closed"));
      this.#pending.clear();
    };
  }

  static open(url: string): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.onopen = () => resolve(new Connection(ws));
      ws.onerror = (e) =>
        reject(new Error(`CDP: cannot connect to ${url}: ${(e as ErrorEvent).message}`));
    });
  }

  async send(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
  ): Promise<Record<string, unknown>> {
    const id = ++this.#id;
    const reply = new Promise<Message>((resolve, reject) =>
      this.#pending.set(id, { resolve, reject })
    );
    this.ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    return (await reply).result ?? {};
  }

  /** The next event (or one already received) that passes `test`. */
  waitFor(test: (m: Message) => boolean, timeoutMs: number): Promise<Message> {
    const seen = this.events.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error("CDP: timed out waiting for an event")),
        timeoutMs,
      );
      this.#waiters.push({
        test,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  close(): void {
    this.ws.close();
  }
}

/** What a page did while it loaded: console errors, exceptions, log errors, requests. */
export interface PageLog {
  readonly consoleErrors: string[];
  readonly exceptions: string[];
  readonly logErrors: string[];
  readonly requests: string[];
}

/** A page open in the browser. */
export interface Page {
  /** Evaluates an expression in the page; returns its value (JSON-serialisable). */
  evaluate<T>(expression: string): Promise<T>;
  /** A PNG of the whole page (not only the viewport), or of the rows y .. y + height. */
  screenshot(clip?: { y: number; height: number }): Promise<Uint8Array>;
  /** What the page logged and requested since it was opened, as of now. */
  log(): PageLog;
}

/** A started browser; close() stops it and removes its profile folder. */
export interface Browser {
  open(url: string, opts?: { width?: number; height?: number }): Promise<Page>;
  close(): Promise<void>;
}

/** Starts headless Chromium with a fresh profile and connects to it over the DevTools protocol. */
export async function launch(
  executable: string,
  opts: { timeoutMs?: number } = {},
): Promise<Browser> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const profile = await Deno.makeTempDir({ prefix: "fb-chromium-" });
  const child = new Deno.Command(executable, {
    args: [
      ...CHROMIUM_FLAGS,
      `--user-data-dir=${profile}`,
      "--remote-debugging-port=0",
      "about:blank",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // Chromium prints "DevTools listening on ws://..." on stderr; keep draining it afterwards.
  const lines = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let stderr = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`chromium did not start in ${timeoutMs} ms:\n${stderr.slice(-2000)}`)),
      timeoutMs,
    );
    (async () => {
      let found = false;
      for (;;) {
        const { value, done } = await lines.read().catch(() => ({ value: "", done: true }));
        if (done) break;
        stderr += value;
        const m = !found && stderr.match(/DevTools listening on (ws:\/\/\S+)/);
        if (m) {
          found = true;
          clearTimeout(timer);
          resolve(m[1]);
        }
      }
      if (!found) {
        clearTimeout(timer);
        reject(new Error(`chromium exited before listening:\n${stderr.slice(-2000)}`));
      }
    })();
  });
  const conn = await Connection.open(url);

  return {
    async open(pageUrl, o = {}) {
      const { targetId } = await conn.send("Target.createTarget", { url: "about:blank" });
      const { sessionId } = await conn.send("Target.attachToTarget", { targetId, flatten: true });
      const sid = sessionId as string;
      const mine = (m: Message) => m.sessionId === sid;
      const start = conn.events.length;
      await conn.send("Runtime.enable", {}, sid);
      await conn.send("Log.enable", {}, sid);
      await conn.send("Network.enable", {}, sid);
      await conn.send("Page.enable", {}, sid);
      await conn.send("Emulation.setDeviceMetricsOverride", {
        width: o.width ?? 1280,
        height: o.height ?? 900,
        deviceScaleFactor: 1,
        mobile: false,
      }, sid);
      const loaded = conn.waitFor((m) => mine(m) && m.method === "Page.loadEventFired", timeoutMs);
      const nav = await conn.send("Page.navigate", { url: pageUrl }, sid);
      if (nav.errorText) throw new Error(`cannot open ${pageUrl}: ${nav.errorText}`);
      await loaded;
      const collect = (): PageLog => {
        const log: PageLog = { consoleErrors: [], exceptions: [], logErrors: [], requests: [] };
        for (const m of conn.events.slice(start)) {
          if (!mine(m)) continue;
          const p = m.params ?? {};
          if (
            m.method === "Runtime.consoleAPICalled" &&
            ["error", "assert"].includes(p.type as string)
          ) {
            log.consoleErrors.push(JSON.stringify(p.args));
          } else if (m.method === "Runtime.exceptionThrown") {
            log.exceptions.push(JSON.stringify(p.exceptionDetails));
          } else if (m.method === "Log.entryAdded") {
            const e = p.entry as { level: string; text: string; url?: string };
            if (e.level === "error") log.logErrors.push(`${e.text} ${e.url ?? ""}`.trim());
          } else if (m.method === "Network.requestWillBeSent") {
            log.requests.push((p.request as { url: string }).url);
          }
        }
        return log;
      };
      return {
        log: collect,
        async evaluate<T>(expression: string): Promise<T> {
          const r = await conn.send("Runtime.evaluate", {
            expression,
            returnByValue: true,
            awaitPromise: true,
          }, sid);
          if (r.exceptionDetails) {
            throw new Error(`evaluate: ${JSON.stringify(r.exceptionDetails)}`);
          }
          return (r.result as { value: T }).value;
        },
        async screenshot(part?: { y: number; height: number }): Promise<Uint8Array> {
          const { cssContentSize } = await conn.send("Page.getLayoutMetrics", {}, sid) as {
            cssContentSize: { width: number; height: number };
          };
          const r = await conn.send("Page.captureScreenshot", {
            format: "png",
            captureBeyondViewport: true,
            clip: {
              x: 0,
              y: part?.y ?? 0,
              width: Math.ceil(cssContentSize.width),
              height: part?.height ?? Math.ceil(cssContentSize.height),
              scale: 1,
            },
          }, sid);
          return Uint8Array.from(atob(r.data as string), (c) => c.charCodeAt(0));
        },
      };
    },
    async close() {
      try {
        await Promise.race([
          conn.send("Browser.close"),
          new Promise((r) => setTimeout(r, 5000)),
        ]);
      } catch { /* already gone */ }
      conn.close();
      const exited = await Promise.race([
        child.status.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 10_000)),
      ]);
      if (!exited) {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
        await child.status;
      }
      await lines.cancel().catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}
