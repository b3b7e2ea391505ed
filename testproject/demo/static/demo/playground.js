// The CORS playground: send a cross-origin fetch(), show what the browser did and what the server says.
// The rules used here to tell whether a request needs a preflight, and what a browser checks in an answer,
// follow the WHATWG Fetch standard ("CORS-safelisted request-header", "CORS check", "CORS-preflight fetch").
"use strict";

(() => {
  const config = JSON.parse(document.getElementById("pg-config").textContent);
  const $ = (id) => document.getElementById(id);

  const SAFELISTED_METHODS = new Set(["GET", "HEAD", "POST"]);
  // fetch() upper-cases these and no others: "patch" stays "patch".
  const NORMALIZED_METHODS = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"]);
  const SIMPLE_CONTENT_TYPES = new Set(["application/x-www-form-urlencoded", "multipart/form-data", "text/plain"]);
  // CORS-unsafe request-header bytes, as characters.
  const UNSAFE_BYTE = /[\x00-\x08\x0a-\x1f"():<>?@[\\\]{}\x7f]/;
  const LANGUAGE_VALUE = /^[0-9A-Za-z *,\-.;=]*$/;
  const SIMPLE_RANGE = /^bytes=[0-9]+-[0-9]*$/;

  /** Is this header, with this value, CORS-safelisted (sent without a preflight)? */
  function isSafelisted(name, value) {
    if (value.length > 128) return false;
    switch (name) {
      case "accept":
        return !UNSAFE_BYTE.test(value);
      case "accept-language":
      case "content-language":
        return LANGUAGE_VALUE.test(value);
      case "content-type": {
        if (UNSAFE_BYTE.test(value)) return false;
        const essence = value.split(";")[0].trim().toLowerCase();
        return SIMPLE_CONTENT_TYPES.has(essence);
      }
      case "range":
        return SIMPLE_RANGE.test(value);
      default:
        return false;
    }
  }

  /** The names a preflight's Access-Control-Request-Headers carries: lower case, sorted, no duplicates. */
  function unsafeHeaderNames(headers) {
    const unsafe = new Set();
    let safelistedSize = 0;
    const safelisted = [];
    for (const [name, value] of headers) {
      const lower = name.toLowerCase();
      if (isSafelisted(lower, value)) {
        safelistedSize += value.length;
        safelisted.push(lower);
      } else {
        unsafe.add(lower);
      }
    }
    if (safelistedSize > 1024) safelisted.forEach((name) => unsafe.add(name));
    return [...unsafe].sort();
  }

  /** "Name: value" lines into pairs; an error message for a line that is not one. */
  function parseHeaders(text) {
    const headers = [];
    for (const [index, line] of text.split(/\r?\n/).entries()) {
      if (line.trim() === "") continue;
      const colon = line.indexOf(":");
      const name = colon > 0 ? line.slice(0, colon).trim() : "";
      if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) {
        return {error: `Request headers, line ${index + 1}: write Name: value, such as X-Requested-With: playground.`};
      }
      headers.push([name, line.slice(colon + 1).trim()]);
    }
    return {headers};
  }

  function list(value) {
    return (value || "").split(",").map((item) => item.trim()).filter(Boolean);
  }

  /** The Fetch standard's CORS check on an answer's headers; null when it passes, else why not. */
  function corsCheck(headers, origin, credentials) {
    const allowOrigin = headers["Access-Control-Allow-Origin"];
    if (allowOrigin === undefined) return "the answer has no Access-Control-Allow-Origin";
    if (credentials === "include" && allowOrigin === "*") {
      return "Access-Control-Allow-Origin is *, which never allows a request with credentials";
    }
    if (allowOrigin !== "*" && allowOrigin !== origin) {
      return `Access-Control-Allow-Origin is ${allowOrigin}, not this page's origin ${origin}`;
    }
    if (credentials === "include" && headers["Access-Control-Allow-Credentials"] !== "true") {
      return "a request with credentials needs Access-Control-Allow-Credentials: true";
    }
    return null;
  }

  /** What a browser checks in a preflight's answer beyond the CORS check. */
  function preflightCheck(headers, method, names, credentials) {
    const methods = list(headers["Access-Control-Allow-Methods"]);
    const wildcard = credentials !== "include";
    if (!SAFELISTED_METHODS.has(method) && !methods.includes(method) && !(wildcard && methods.includes("*"))) {
      return `method ${method} is not in Access-Control-Allow-Methods`;
    }
    const allowed = list(headers["Access-Control-Allow-Headers"]).map((name) => name.toLowerCase());
    for (const name of names) {
      if (allowed.includes(name)) continue;
      if (wildcard && allowed.includes("*") && name !== "authorization") continue;
      return `request header ${name} is not in Access-Control-Allow-Headers`;
    }
    return null;
  }

  function text(id, value) {
    $(id).textContent = value;
  }

  function show(id, visible) {
    $(id).hidden = !visible;
  }

  function element(tag, className, content) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined) node.textContent = content;
    return node;
  }

  function headerTable(pairs) {
    const table = element("table", "pg-headers");
    const body = table.createTBody();
    for (const [name, value] of pairs) {
      const row = body.insertRow();
      row.appendChild(element("th", "", name));
      row.insertCell().appendChild(element("code", "", value));
    }
    return table;
  }

  /** The body as text, JSON indented, cut at 4000 characters. */
  function readable(body) {
    let shown = body;
    try {
      shown = JSON.stringify(JSON.parse(body), null, 2);
    } catch (error) {
      // not JSON: show it as it came
    }
    return shown.length > 4000 ? `${shown.slice(0, 4000)}…` : shown;
  }

  async function logAfter(id) {
    try {
      const response = await fetch(`${config.logUrl}?after=${id}`, {cache: "no-store"});
      return await response.json();
    } catch (error) {
      return {last_id: id, requests: []};
    }
  }

  /** One line per request of this page's that reached the server, and what it means. */
  function renderSeen(seen, method, needsPreflight, browserOk) {
    const items = $("pg-seen");
    for (const entry of seen) {
      let line;
      if (entry.preflight) {
        const asked = entry.request_headers ? `, headers ${entry.request_headers}` : "";
        const answer = entry.allowed ? "with CORS headers: allowed" : "without CORS headers: refused";
        line = `OPTIONS ${entry.path} (the preflight, for ${entry.request_method}${asked}): ${entry.status}, ${answer}`;
      } else {
        const answer = entry.allowed ? "with CORS headers" : "without CORS headers, so the browser hides the answer";
        line = `${entry.method} ${entry.path}: ${entry.status}, ${answer}`;
      }
      items.appendChild(element("li", "", line));
    }
    const preflighted = seen.some((entry) => entry.preflight);
    let note = "";
    if (needsPreflight && !preflighted && browserOk) {
      note = "No preflight reached the server: the browser answered it from its preflight cache (an earlier " +
        "one allowed this within Access-Control-Max-Age).";
    } else if (!needsPreflight) {
      note = `No preflight needed: ${method} with only safelisted headers is sent directly.`;
    }
    if (seen.length && !seen.some((entry) => !entry.preflight)) {
      note += ` The ${method} request itself never left the browser.`;
    } else if (!seen.length && !browserOk) {
      note += " Nothing reached this server (or the target is another server).";
    }
    text("pg-seen-note", note.trim());
  }

  async function evaluate(payload) {
    if (!config.evaluateUrl) return {error: "The REST API is not mounted on this server, so there is no evaluate endpoint."};
    let response;
    try {
      response = await fetch(config.evaluateUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": config.csrfToken},
        body: JSON.stringify(payload),
      });
    } catch (error) {
      return {error: `The evaluate endpoint could not be reached: ${error}`};
    }
    if (response.status === 401 || response.status === 403) return {login: true};
    const body = await response.text();
    if (!response.ok) return {error: `The evaluate endpoint answered ${response.status}: ${body}`};
    return {decision: JSON.parse(body)};
  }

  async function browserFetch(request) {
    try {
      const response = await fetch(request);
      const body = await response.text();
      return {ok: true, status: response.status, statusText: response.statusText, headers: [...response.headers], body};
    } catch (error) {
      return {ok: false, error: `${error.name}: ${error.message}`};
    }
  }

  function renderStep(title, decision) {
    const step = element("div", `pg-step ${decision.allowed ? "pg-allowed" : "pg-refused"}`);
    step.appendChild(element("h3", "", title));
    const verdict = element("p", "pg-step-verdict", decision.allowed ? "Allowed" : "Refused");
    step.appendChild(verdict);
    const policy = element("p", "pg-step-policy");
    policy.textContent = decision.policy ? `Policy: ${decision.policy.name}` : "Policy: none covers this path";
    step.appendChild(policy);
    const explanation = element("ul", "pg-explanation");
    decision.explanation.forEach((line) => explanation.appendChild(element("li", "", line)));
    step.appendChild(explanation);
    if (decision.reasons.length) {
      step.appendChild(element("p", "pg-reasons-title", "Refused because:"));
      const reasons = element("ul", "pg-reasons");
      decision.reasons.forEach((line) => reasons.appendChild(element("li", "", line)));
      step.appendChild(reasons);
    }
    const headers = Object.entries(decision.response_headers);
    if (decision.vary.length) headers.push(["Vary", decision.vary.join(", ")]);
    if (headers.length) step.appendChild(headerTable(headers));
    else step.appendChild(element("p", "pg-aside", "No CORS headers."));
    $("pg-server-steps").appendChild(step);
  }

  function reset() {
    for (const id of ["pg-error", "pg-response", "pg-login", "pg-server-error", "pg-prediction", "pg-agreement"]) {
      show(id, false);
    }
    $("pg-server-steps").replaceChildren();
    $("pg-response-headers").replaceChildren();
    $("pg-seen").replaceChildren();
    text("pg-browser-verdict", "");
    text("pg-seen-note", "");
    $("pg-browser-verdict").className = "pg-verdict";
  }

  function finish(result) {
    result.dataset.state = "done";
    $("pg-send").disabled = false;
  }

  async function send(event) {
    event.preventDefault();
    const result = $("pg-result");
    result.hidden = false;
    result.dataset.state = "running";
    result.dataset.run = String(Number(result.dataset.run) + 1);
    $("pg-send").disabled = true;
    reset();

    const origin = window.location.origin;
    const target = $("pg-target").value.trim().replace(/\/+$/, "");
    const typed = $("pg-method").value.trim() || "GET";
    const method = NORMALIZED_METHODS.has(typed.toUpperCase()) ? typed.toUpperCase() : typed;
    const credentials = $("pg-credentials").value;
    const parsed = parseHeaders($("pg-headers").value);
    let url;
    try {
      url = new URL($("pg-path").value.trim() || "/", `${target}/`);
    } catch (error) {
      parsed.error = parsed.error || "Write the target as an origin, such as http://localhost:8000, and the path as /api/public/items/.";
    }
    text("pg-request-line", url ? `${method} ${url.href} from ${origin}` : "");
    if (parsed.error) {
      text("pg-browser-verdict", "Not sent.");
      text("pg-error", parsed.error);
      show("pg-error", true);
      return finish(result);
    }

    // The default cache mode: Chromium skips its preflight cache for "no-store" and "reload" (measured), and
    // Max-Age is one of the things to watch here.
    const init = {method, headers: parsed.headers, credentials};
    const body = $("pg-body").value;
    if (body !== "") init.body = body;
    let request;
    try {
      request = new Request(url, init);
    } catch (error) {
      text("pg-browser-verdict", "Not sent: the browser would not build this request.");
      text("pg-error", `${error.name}: ${error.message}`);
      show("pg-error", true);
      return finish(result);
    }
    const names = unsafeHeaderNames(parsed.headers);
    const needsPreflight = !SAFELISTED_METHODS.has(method) || names.length > 0;

    const before = (await logAfter(Number.MAX_SAFE_INTEGER)).last_id;
    const browser = await browserFetch(request);
    let path = url.pathname;
    try {
      path = decodeURIComponent(path);
    } catch (error) {
      // keep the encoded path: the server decodes what it can the same way
    }
    const seen = (await logAfter(before)).requests.filter((entry) => entry.origin === origin && entry.path === path);

    // The browser.
    if (browser.ok) {
      $("pg-browser-verdict").classList.add("pg-allowed");
      text("pg-browser-verdict", "Allowed: fetch() resolved and the page read the response.");
      text("pg-status", `${browser.status} ${browser.statusText}`.trim());
      for (const [name, value] of browser.headers) {
        const row = $("pg-response-headers").insertRow();
        row.appendChild(element("th", "", name));
        row.insertCell().appendChild(element("code", "", value));
      }
      text("pg-body-out", readable(browser.body));
      show("pg-response", true);
    } else {
      $("pg-browser-verdict").classList.add("pg-refused");
      text("pg-browser-verdict", "Refused: fetch() rejected, so the page gets nothing but the error.");
      text("pg-error", `${browser.error}. The browser's console (DevTools) says why; the server's side is on the right.`);
      show("pg-error", true);
    }
    renderSeen(seen, method, needsPreflight, browser.ok);

    // The server.
    const steps = [];
    if (needsPreflight) {
      steps.push(["Preflight (OPTIONS)", {origin, method, path, request_headers: names, preflight: true}]);
    }
    steps.push([`The ${method} request`, {origin, method, path}]);
    let prediction = null;
    for (const [title, payload] of steps) {
      const answer = await evaluate(payload);
      if (answer.login) {
        show("pg-login", true);
        return finish(result);
      }
      if (answer.error) {
        text("pg-server-error", answer.error);
        show("pg-server-error", true);
        return finish(result);
      }
      const decision = answer.decision;
      renderStep(title, decision);
      const why = decision.allowed
        ? corsCheck(decision.response_headers, origin, credentials) ||
          (payload.preflight ? preflightCheck(decision.response_headers, method, names, credentials) : null)
        : decision.reasons.join("; ");
      if (why) {
        prediction = `refused (${why})`;
        if (payload.preflight) {
          const never = element("p", "pg-aside", `So the browser never sends the ${method} request itself.`);
          $("pg-server-steps").appendChild(never);
        }
        break;
      }
    }
    const expected = prediction === null ? "allowed" : prediction;
    text("pg-prediction", `From these answers a browser should have: ${expected}.`);
    show("pg-prediction", true);
    const agrees = (prediction === null) === browser.ok;
    $("pg-agreement").className = `pg-agreement ${agrees ? "pg-allowed" : "pg-refused"}`;
    text(
      "pg-agreement",
      agrees
        ? "The browser did what the server's answer says."
        : "The browser and the server's answer differ: a preflight cached before a policy change " +
            "(Access-Control-Max-Age), or a target served by another server, can explain it.",
    );
    show("pg-agreement", true);
    finish(result);
  }

  function applyPreset() {
    const preset = config.presets[Number($("pg-preset").value)];
    if ($("pg-preset").value === "" || !preset) {
      show("pg-preset-note", false);
      return;
    }
    $("pg-method").value = preset.method;
    $("pg-path").value = preset.path;
    $("pg-headers").value = preset.headers;
    $("pg-credentials").value = preset.credentials;
    $("pg-body").value = preset.body;
    text("pg-preset-note", preset.note);
    show("pg-preset-note", true);
  }

  text("pg-page-origin", window.location.origin);
  $("pg-target").value = config.target;
  $("pg-preset").addEventListener("change", applyPreset);
  $("pg-form").addEventListener("submit", send);
  document.body.dataset.ready = "true";
})();
