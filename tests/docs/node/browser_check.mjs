// Load every page of the HTML preview in headless Chromium, starting from the index and
// following every internal link; print one JSON report of what went wrong.
// Usage: node browser_check.mjs <base URL> <chromium> <user-data-dir> <screenshot dir> <page>...
//   The pages after the screenshot dir are the paths (from the base URL) to photograph.
import { chromium } from "playwright-core";

const [baseUrl, executablePath, userDataDir, screenshotDir, ...photographed] = process.argv.slice(2);
const base = new URL(baseUrl);
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath,
  headless: true,
  viewport: { width: 1360, height: 900 },
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
const report = { visited: [], consoleErrors: [], pageErrors: [], failedRequests: [], externalRequests: [],
                 brokenLinks: [], missingAnchors: [], screenshots: [] };
const page = context.pages()[0] ?? await context.newPage();
let current = "";
page.on("console", (message) => {
  if (message.type() === "error" || message.type() === "warning") {
    report.consoleErrors.push({ page: current, type: message.type(), text: message.text() });
  }
});
page.on("pageerror", (error) => report.pageErrors.push({ page: current, text: String(error) }));
page.on("requestfailed", (request) => report.failedRequests.push({ page: current, url: request.url() }));
page.on("request", (request) => {
  const url = new URL(request.url());
  if (url.protocol !== "data:" && url.origin !== base.origin) report.externalRequests.push({ page: current, url: request.url() });
});

const pathOf = (url) => new URL(url).pathname;
const queue = [new URL("index.html", base).href];
const seen = new Set(queue.map(pathOf));
const anchorsWanted = [];
const anchorsOf = new Map();
while (queue.length) {
  const url = queue.shift();
  current = pathOf(url);
  // A redirect page (meta refresh) is fetched first, so its navigation can be awaited.
  const fetched = await fetch(url);
  const redirects = (await fetched.text()).includes('http-equiv="refresh"');
  let status = fetched.status;
  if (redirects) {
    await page.goto(url, { waitUntil: "commit" });
    await page.waitForURL((u) => u.pathname !== current, { timeout: 10000 });
    await page.waitForLoadState("load");
  } else {
    const response = await page.goto(url, { waitUntil: "load" });
    status = response ? response.status() : 0;
  }
  const landed = pathOf(page.url());
  report.visited.push({ path: current, landed, status, title: await page.title() });
  if (status !== 200) report.brokenLinks.push({ from: current, href: url, status });
  anchorsOf.set(landed, await page.$$eval("[id]", (nodes) => nodes.map((n) => n.id)));
  const links = await page.$$eval("a[href]", (nodes) => nodes.map((n) => ({ raw: n.getAttribute("href"), href: n.href })));
  for (const { raw, href } of links) {
    const target = new URL(href);
    if (target.protocol === "mailto:") continue;
    if (target.origin !== base.origin) {
      if (!raw.startsWith("http")) report.brokenLinks.push({ from: landed, href: raw, status: "not internal" });
      continue;
    }
    if (target.hash) anchorsWanted.push({ from: landed, path: target.pathname, anchor: decodeURIComponent(target.hash.slice(1)) });
    if (!seen.has(target.pathname)) {
      seen.add(target.pathname);
      queue.push(target.origin + target.pathname);
    }
  }
}
for (const wanted of anchorsWanted) {
  const ids = anchorsOf.get(wanted.path);
  if (!ids) report.brokenLinks.push({ from: wanted.from, href: wanted.path, status: "never loaded" });
  else if (!ids.includes(wanted.anchor)) report.missingAnchors.push(wanted);
}
// Each photographed page at a desktop and a phone width; the preview's own features
// are checked on the way: highlighted code, copy buttons, search, the phone layout.
report.features = [];
for (const width of [1280, 390]) {
  await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
  for (const path of photographed) {
    current = path;
    await page.goto(new URL(path, base).href, { waitUntil: "load" });
    const name = path.replace(/\.html/, "").replace(/[^A-Za-z0-9-]+/g, "_");
    const file = `${screenshotDir}/${name}-${width}.png`;
    await page.screenshot({ path: file, fullPage: false });
    report.screenshots.push(file);
    const features = await page.evaluate(() => {
      const none = { top: 0, width: 0, height: 0 };
      const main = document.querySelector("main")?.getBoundingClientRect() ?? none;
      const nav = document.querySelector("nav.sidebar")?.getBoundingClientRect() ?? none;
      return {
        highlighted: document.querySelectorAll("pre.highlight span").length,
        codeBlocks: document.querySelectorAll("main pre").length,
        copyButtons: document.querySelectorAll("main .code button.copy").length,
        mainTop: Math.round(main.top),
        mainWidth: Math.round(main.width),
        navHeight: Math.round(nav.height),
        pageWidth: document.documentElement.scrollWidth,
      };
    });
    report.features.push({ path, width, ...features });
  }
}
// Search: typing a word lists pages, and the first result opens a page.
await page.setViewportSize({ width: 1280, height: 900 });
await page.goto(new URL(photographed[0], base).href, { waitUntil: "load" });
const searchable = (await page.$("#search")) !== null;
if (searchable) await page.fill("#search", "webhook");
const hits = searchable ? await page.$$eval("#search-results a", (nodes) => nodes.map((n) => n.href)) : [];
report.search = { query: "webhook", hits };
if (hits.length) {
  const response = await page.goto(hits[0], { waitUntil: "load" });
  report.search.opened = response ? response.status() : 0;
}
await context.close();
process.stdout.write(JSON.stringify(report));
