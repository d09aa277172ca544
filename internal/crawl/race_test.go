//go:build race

package crawl_test

// raceEnabled is set when the tests run with -race, which makes parsing
// several times slower: the heaviest tests then use smaller inputs.
const raceEnabled = true
