/** The pages' one stylesheet, served from /assets/tessera.css (the pages' CSP allows no inline style). */
export const STYLESHEET = `
:root {
  color-scheme: light;
  --ink: #1d2330; --muted: #5b6475; --line: #dde2ea; --paper: #ffffff; --wash: #f3f5f9;
  --accent: #3346c8; --accent-ink: #ffffff; --danger: #b42318; --danger-wash: #fef3f2;
}
* { box-sizing: border-box; }
html, body { margin: 0; padding: 0; }
body {
  min-height: 100vh; background: var(--wash); color: var(--ink);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  display: flex; flex-direction: column; align-items: center; padding: 48px 16px;
}
.brand { font-weight: 700; letter-spacing: .02em; color: var(--muted); margin-bottom: 20px; font-size: 15px; }
.brand span { display: inline-block; width: 12px; height: 12px; margin-right: 8px; border-radius: 3px; background: var(--accent); vertical-align: -1px; }
main.card {
  width: 100%; max-width: 420px; background: var(--paper); border: 1px solid var(--line); border-radius: 12px;
  padding: 32px; box-shadow: 0 1px 2px rgba(16, 24, 40, .05);
}
h1 { font-size: 22px; line-height: 1.3; margin: 0 0 8px; }
p { margin: 0 0 16px; }
.lead { color: var(--muted); }
label { display: block; font-weight: 600; font-size: 14px; margin: 16px 0 6px; }
input[type=text], input[type=password] {
  width: 100%; padding: 10px 12px; font: inherit; color: inherit;
  border: 1px solid var(--line); border-radius: 8px; background: var(--paper);
}
input[type=text]:focus, input[type=password]:focus, button:focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; border-color: var(--accent); }
button {
  font: inherit; font-weight: 600; border-radius: 8px; padding: 10px 16px; cursor: pointer;
  border: 1px solid var(--line); background: var(--paper); color: var(--ink);
}
button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-ink); }
.actions { display: flex; gap: 12px; margin-top: 24px; }
.actions button { flex: 1; }
.alert { background: var(--danger-wash); color: var(--danger); border: 1px solid #fecdca; border-radius: 8px; padding: 10px 12px; margin: 16px 0 0; font-size: 14px; }
ul.scopes { list-style: none; padding: 0; margin: 16px 0; border: 1px solid var(--line); border-radius: 8px; }
ul.scopes li { padding: 12px 14px; border-top: 1px solid var(--line); }
ul.scopes li:first-child { border-top: 0; }
ul.scopes .what { display: block; }
ul.scopes code, .resources code { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; color: var(--muted); word-break: break-all; }
.resources { font-size: 14px; color: var(--muted); }
.resources ul { margin: 4px 0 0; padding-left: 18px; }
.check { display: flex; gap: 8px; align-items: center; font-weight: 400; margin: 16px 0 0; }
.account { display: flex; justify-content: space-between; align-items: center; gap: 12px; font-size: 14px; color: var(--muted); border-top: 1px solid var(--line); margin-top: 24px; padding-top: 16px; }
.account form { margin: 0; }
.account button { padding: 4px 10px; font-size: 13px; font-weight: 500; }
.detail { font-size: 14px; color: var(--muted); word-break: break-word; }
`;
