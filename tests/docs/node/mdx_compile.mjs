// Compile every .mdx file under a folder with @mdx-js/mdx (plus the frontmatter and GFM
// plugins Mintlify uses) and print one JSON report: {compiled, errors: [{file, message}]}.
// Usage: node mdx_compile.mjs <folder>
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { compile } from "@mdx-js/mdx";
import remarkFrontmatter from "remark-frontmatter";
import remarkGfm from "remark-gfm";

async function* mdxFiles(folder) {
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) yield* mdxFiles(path);
    else if (entry.name.endsWith(".mdx")) yield path;
  }
}

const root = process.argv[2];
const report = { compiled: 0, errors: [] };
for await (const file of mdxFiles(root)) {
  try {
    const source = await readFile(file, "utf8");
    await compile({ value: source, path: file }, { remarkPlugins: [remarkFrontmatter, remarkGfm] });
    report.compiled += 1;
  } catch (error) {
    report.errors.push({ file: relative(root, file), message: String(error.message ?? error) });
  }
}
process.stdout.write(JSON.stringify(report));
