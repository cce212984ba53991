// The status page of ses server in a real browser (headless Chromium,
// driven by playwright-core): it loads, a denial made after it loaded
// appears without a reload with the verifier's explanation, lease changes
// appear by fingerprint, the filters work, and it fits 1280 px.
//
//	SES=/path/to/ses [CHROMIUM=/usr/bin/chromium] [SCREENSHOT=docs/status.png] node status.mjs
//
// It fails (exit 1) when Chromium is missing: it never passes without a
// browser.
import { chromium } from "playwright-core";
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

const ses = process.env.SES;
const browserPath = process.env.CHROMIUM || "/usr/bin/chromium";
const screenshot = process.env.SCREENSHOT;
const WAIT = 60_000; // every wait is bounded, generously: a shared machine

class Failure extends Error {}
function fail(msg) {
  throw new Failure(msg);
}
// until waits, at most WAIT, for fn to hold in the page.
async function until(page, what, fn) {
  try {
    await page.waitForFunction(fn, null, { timeout: WAIT });
  } catch (e) {
    fail("waited " + WAIT / 1000 + " s for " + what + ": " + e.message.split("\n")[0]);
  }
}
function report(e) {
  console.error("browser test: FAIL: " + (e instanceof Failure ? e.message : e.stack));
  process.exit(1);
}

if (!ses || !existsSync(ses)) report(new Failure("SES must name the ses binary (got " + ses + ")"));
if (!existsSync(browserPath)) report(new Failure("no Chromium at " + browserPath + ": install it (apt-get install chromium) or set CHROMIUM"));

const work = mkdtempSync(join(tmpdir(), "ses-browser-"));
const env = { ...process.env, SES_HOME: join(work, "store") };
const run = (...args) => {
  try {
    return { code: 0, out: execFileSync(ses, args, { env, cwd: work, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }) };
  } catch (e) {
    return { code: e.status, out: String(e.stdout) + String(e.stderr) };
  }
};

let server, context;
try {
  // A server on a free port; its banner says where.
  server = spawn(ses, ["server", "--url", "https://127.0.0.1:0", "--log-level", "warn"], { env, cwd: work });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the server did not start")), WAIT);
    createInterface({ input: server.stdout }).on("line", (line) => {
      const m = /listening on (https:\/\/\S+)/.exec(line);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    server.on("exit", (code) => reject(new Error("the server exited " + code)));
  });
  for (const app of ["contosoapp", "otherapp", "fabrikam"]) {
    run("token", "--app", app, "--address", "127.0.0.1", "-o", app + ".txt");
  }
  const check = (token, app) => run("client", "check", "--dev", "--url", url, "--token-file", token + ".txt", "--app", app, "--retries", "0");

  // Decisions before the page loads.
  if (check("contosoapp", "contosoapp").code !== 0) fail("an approval was refused");
  if (check("fabrikam", "fabrikam").code !== 0) fail("an approval was refused");
  if (check("otherapp", "contosoapp").code !== 1) fail("a denial was not denied");

  context = await chromium.launchPersistentContext(join(work, "profile"), {
    executablePath: browserPath,
    headless: true,
    ignoreHTTPSErrors: true, // the page is under test here, not TLS
    viewport: { width: 1280, height: 900 },
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  const page = context.pages()[0] || await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  let loads = 0;
  page.on("load", () => loads++);
  const external = [];
  page.on("request", (r) => { if (!r.url().startsWith(url)) external.push(r.url()); });

  await page.goto(url + "/", { waitUntil: "load", timeout: WAIT });
  await until(page, "the three decisions made before the page loaded", () => document.querySelectorAll("#decisions tbody tr").length === 3);
  const loadsBefore = loads;

  // A denial after the page loaded appears, with its explanation.
  if (check("otherapp", "contosoapp").code !== 1) fail("the second denial was not denied");
  const explanation = 'token entitles ["otherapp"], not "contosoapp"';
  await until(page, "the denial made after the page loaded", () => document.querySelectorAll("#decisions tbody tr.denied").length === 2);
  const newest = await page.$eval("#decisions tbody tr", (tr) => ({
    cls: tr.className, cells: [...tr.cells].map((c) => c.textContent),
  }));
  if (newest.cls !== "denied" || !newest.cells.includes("application-not-entitled") || !newest.cells.includes(explanation)) {
    fail("the new denial's row: " + JSON.stringify(newest));
  }
  if (loads !== loadsBefore) fail("the page reloaded to show the denial");

  // Denied rows stand out from approved ones.
  const colors = await page.$$eval("#decisions tbody tr", (rows) => rows.map((tr) => [tr.className, getComputedStyle(tr.cells[0]).backgroundColor]));
  const approved = colors.find(([c]) => c === "approved"), denied = colors.find(([c]) => c === "denied");
  if (!approved || !denied || approved[1] === denied[1]) fail("denied rows look like approved ones: " + JSON.stringify(colors));

  // A lease appears among the lease changes, by fingerprint only.
  const lease = run("client", "lease", "--dev", "--url", url, "--token-file", "contosoapp.txt", "--app", "contosoapp");
  const id = lease.out.split(" ")[0];
  if (lease.code !== 0 || !/^[0-9a-f]{32}$/.test(id)) fail("ses client lease: " + lease.out);
  await until(page, "the lease's acquisition", () => [...document.querySelectorAll("#leases tbody tr")].some((tr) => tr.cells[1].textContent === "acquired"));
  await until(page, "one active lease in the summary", () => document.querySelector("#summary tfoot tr").cells[5].textContent === "1");
  if ((await page.content()).includes(id)) fail("the page shows the lease id");

  // The filters: by decision, then by application.
  await page.selectOption("#fdecision", "denied");
  let shown = await page.$$eval("#decisions tbody tr", (rows) => rows.map((tr) => tr.className));
  if (shown.length !== 2 || shown.some((c) => c !== "denied")) fail("decision filter: " + JSON.stringify(shown));
  await page.selectOption("#fdecision", "");
  await page.selectOption("#fapp", "fabrikam");
  shown = await page.$$eval("#decisions tbody tr", (rows) => rows.map((tr) => tr.cells[2].textContent));
  if (shown.length !== 1 || shown[0] !== "fabrikam") fail("application filter: " + JSON.stringify(shown));
  const leaseRows = await page.$$eval("#leases tbody tr", (rows) => rows.length);
  if (leaseRows !== 0) fail("application filter left " + leaseRows + " lease rows of other applications");
  await page.selectOption("#fapp", "");

  // The summary per application.
  const summary = await page.$$eval("#summary tbody tr", (rows) => rows.map((tr) => [...tr.cells].map((c) => c.textContent)));
  const contoso = summary.find((r) => r[0] === "contosoapp");
  if (!contoso || contoso[1] !== "2" || contoso[2] !== "2" || contoso[5] !== "1") fail("summary: " + JSON.stringify(summary));

  // 1280 px wide, no horizontal scroll.
  const width = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  if (width[0] > width[1] || width[1] > 1280) fail("the page is " + width[0] + " px wide in a " + width[1] + " px window");

  if (external.length) fail("the page fetched from elsewhere: " + external.join(", "));
  if (errors.length) fail("script errors: " + errors.join("; "));
  if (screenshot) {
    // A few more kinds of decision and change for the picture: a renewal,
    // a release, a request without api-version, another application.
    run("client", "renew", "--dev", "--url", url, id, "--duration", "PT10M");
    run("client", "release", "--dev", "--url", url, id);
    await page.evaluate(() => fetch("/softwareEntitlements", { method: "POST", body: "{}" }));
    check("otherapp", "otherapp");
    await until(page, "the lease's release", () => [...document.querySelectorAll("#leases tbody tr")].some((tr) => tr.cells[1].textContent === "released"));
    await until(page, "eight decisions", () => document.querySelectorAll("#decisions tbody tr").length === 9);
    await page.screenshot({ path: screenshot, fullPage: true });
  }
  console.log("browser test: ok: the page loaded, showed a denial made later with its explanation, a lease by fingerprint, filtered, fit 1280 px");
} catch (e) {
  process.exitCode = 1;
  console.error("browser test: FAIL: " + (e instanceof Failure ? e.message : e.stack));
} finally {
  if (context) await context.close();
  if (server) server.kill("SIGINT");
  rmSync(work, { recursive: true, force: true });
}
