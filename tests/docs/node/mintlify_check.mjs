// Check a Mintlify folder with Mintlify's own packages, offline: docs.json against
// @mintlify/validation's schema, internal links with @mintlify/link-rot.
// Usage: node mintlify_check.mjs <folder>; prints {config: {success, issues}, brokenLinks: [...]}.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { validateDocsConfig } from "@mintlify/validation";
import { getBrokenInternalLinks } from "@mintlify/link-rot";

const root = process.argv[2];
const config = JSON.parse(await readFile(join(root, "docs.json"), "utf8"));
const result = await validateDocsConfig(config);
const report = {
  config: {
    success: Boolean(result.success),
    issues: result.success ? [] : result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`),
  },
  brokenLinks: [],
};
// link-rot resolves paths against the working directory: run it from the folder.
process.chdir(root);
for (const path of await getBrokenInternalLinks(".")) {
  report.brokenLinks.push({
    file: path.relativeDir ? `${path.relativeDir}/${path.filename}` : String(path.filename),
    link: path.originalPath,
  });
}
process.stdout.write(JSON.stringify(report));
