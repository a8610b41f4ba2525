//go:build !race

package nunjucks_test

// slowdown scales the tests' time bounds (see race_test.go).
const slowdown = 1
