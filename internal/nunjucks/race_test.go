//go:build race

package nunjucks_test

// slowdown scales the tests' time bounds: the race detector runs this
// code several times slower (a limit's 2 s took 2.5 s under -race in CI).
const slowdown = 10
