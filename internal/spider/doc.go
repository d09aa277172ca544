// Package spider turns a spider file into the compiled, immutable rules a
// crawl runs on.
//
// # Stages
//
// [Parse] runs three fixed stages. Load stops at its first problem, since
// nothing can be read after it; the other two carry on past problems, so
// that one run reports every problem in the file:
//
//  1. Load: the bytes are parsed with gopkg.in/yaml.v3 into nodes, which keep
//     the line and column of every key and value. JSON is YAML, so both
//     formats share this stage. Syntax errors, an empty file, more than one
//     YAML document and a top level that is not a mapping are reported here.
//  2. Decode: the nodes are read strictly into a spec that mirrors the file.
//     Unknown keys (with a "did you mean" hint), duplicate keys and values of
//     the wrong type are problems; decoding continues past them.
//  3. Validate and compile: each value is checked and compiled (URLs, RE2
//     regexps, CSS selectors with cascadia, XPath with antchfx/xpath, JSON dot
//     paths, durations, sizes, schedules with robfig/cron/v3, see
//     [ParseCron]) and every default is filled in.
//     Compiling a regexp or selector is how it is validated, so the two
//     happen in one walk.
//
// Problems carry a dotted path such as items[0].fields.tags.css, a line and
// a column; a [*ValidationError] lists them sorted by position.
//
// # Defaults
//
// Every default is filled in, so code using a [Spider] never applies one:
//
//   - Scope.Hosts: the lowercase host[:port] of each start URL.
//   - FollowRule.Attr: "href".
//   - ItemRule.Key: nil, meaning all fields identify an item.
//   - Politeness: robots.txt obeyed, [DefaultConcurrencyPerHost], no delay.
//   - Fetch: [DefaultTimeout], [DefaultRetries], trawl.DefaultUserAgent,
//     [DefaultMaxBody], [DefaultMaxRedirects], no extra headers.
//   - Limits: 0, meaning unlimited.
//
// # Hash
//
// Spider.Hash is the sha256 of a canonical JSON encoding of the decoded
// spec: what the file says, in a fixed key order, without comments,
// formatting or defaults. The same spider written in YAML or JSON has the
// same hash; changing any value changes it.
package spider
