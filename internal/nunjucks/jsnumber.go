package nunjucks

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"sync"
)

// Numbers are float64 with JavaScript's conversions to and from strings:
// the expected outputs print 1e21 as "1e+21" and 0.1+0.2 as
// "0.30000000000000004", which strconv's formats do not.

// formatNumber is JavaScript's Number.prototype.toString().
func formatNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	case f == math.Trunc(f) && math.Abs(f) < 1<<53:
		return strconv.FormatInt(int64(f), 10)
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	// Shortest round-trip digits, as both ECMAScript and strconv choose.
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, expPart, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	exp, _ := strconv.Atoi(expPart)
	k, n := len(digits), exp+1
	switch {
	case k <= n && n <= 21:
		return sign + digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		return sign + digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		return sign + "0." + strings.Repeat("0", -n) + digits
	}
	out := sign + digits[:1]
	if k > 1 {
		out += "." + digits[1:]
	}
	if n-1 >= 0 {
		return out + "e+" + strconv.Itoa(n-1)
	}
	return out + "e-" + strconv.Itoa(1-n)
}

// stringToNumber is JavaScript's Number(string).
func stringToNumber(s string) float64 {
	s = trimJS(s)
	if s == "" {
		return 0
	}
	if len(s) > 2 && s[0] == '0' {
		base := 0
		switch s[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 0 {
			v, ok := parseDigits(s[2:], base)
			if !ok || len(s[2:]) == 0 {
				return math.NaN()
			}
			return v
		}
	}
	n := decimalPrefix(s)
	if n != len(s) {
		return math.NaN()
	}
	return parseDecimal(s)
}

// parseDigits reads all of s as digits of base; ok is false if any is not.
func parseDigits(s string, base int) (float64, bool) {
	v := 0.0
	for i := 0; i < len(s); i++ {
		d := digitValue(s[i])
		if d >= base {
			return 0, false
		}
		v = v*float64(base) + float64(d)
	}
	return v, true
}

func digitValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return 99
}

// decimalPrefix returns the length of the longest prefix of s that is a
// JavaScript StrDecimalLiteral (sign, Infinity, digits, point, exponent).
func decimalPrefix(s string) int {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	if strings.HasPrefix(s[i:], "Infinity") {
		return i + len("Infinity")
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intDigits := i - start
	frac := 0
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		frac = j - i - 1
		if intDigits > 0 || frac > 0 {
			i = j
		}
	}
	if intDigits == 0 && frac == 0 {
		return 0
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k > j {
			i = k
		}
	}
	return i
}

// parseDecimal converts a string accepted by decimalPrefix.
func parseDecimal(s string) float64 {
	switch s {
	case "Infinity", "+Infinity":
		return math.Inf(1)
	case "-Infinity":
		return math.Inf(-1)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(v, 0) {
		return math.NaN()
	}
	return v
}

// parseFloatJS is JavaScript's parseFloat.
func parseFloatJS(s string) float64 {
	s = trimJSLeft(s)
	n := decimalPrefix(s)
	if n == 0 {
		return math.NaN()
	}
	return parseDecimal(s[:n])
}

// parseIntJS is JavaScript's parseInt(s, radix).
func parseIntJS(s string, radix float64) float64 {
	s = trimJSLeft(s)
	sign := 1.0
	if s != "" && (s[0] == '+' || s[0] == '-') {
		if s[0] == '-' {
			sign = -1
		}
		s = s[1:]
	}
	r := toInt32(radix)
	strip := true
	if r != 0 {
		if r < 2 || r > 36 {
			return math.NaN()
		}
		if r != 16 {
			strip = false
		}
	} else {
		r = 10
	}
	if strip && len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		s, r = s[2:], 16
	}
	end := 0
	for end < len(s) && digitValue(s[end]) < int(r) {
		end++
	}
	if end == 0 {
		return math.NaN()
	}
	if r == 10 {
		v, _ := strconv.ParseFloat(s[:end], 64)
		return sign * v
	}
	v, _ := parseDigits(s[:end], int(r))
	return sign * v
}

// toInt32 is ECMAScript's ToInt32.
func toInt32(f float64) int32 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return int32(uint32(int64(math.Mod(math.Trunc(f), 1<<32))))
}

// toIntegerOrInfinity is ECMAScript's ToIntegerOrInfinity.
func toIntegerOrInfinity(f float64) float64 {
	if math.IsNaN(f) {
		return 0
	}
	return math.Trunc(f)
}

// powJS is JavaScript's ** operator. It differs from math.Pow for a NaN
// exponent and for ±1 raised to an infinity, and V8 rounds correctly where
// math.Pow can be an ulp off (10 ** 1.5, 2 ** -1.5), so finite results are
// recomputed in extended precision.
func powJS(x, y float64) float64 {
	if math.IsNaN(y) || (math.IsInf(y, 0) && (x == 1 || x == -1)) {
		return math.NaN()
	}
	p := math.Pow(x, y)
	if p == 0 || math.IsInf(p, 0) || math.IsNaN(p) || y == 0 || y == 1 || x == 1 {
		return p
	}
	return precisePow(x, y)
}

// powPrec is the working precision of precisePow: far more than the 53
// bits kept, so that the final rounding is correct.
const powPrec = 200

// precisePow computes x**y for finite x, y with a finite nonzero result:
// by repeated squaring for integer exponents, as exp(y·ln|x|) otherwise.
func precisePow(x, y float64) float64 {
	neg := x < 0
	bx := new(big.Float).SetPrec(powPrec).SetFloat64(math.Abs(x))
	var z *big.Float
	if y == math.Trunc(y) && math.Abs(y) <= 1<<20 {
		n := int64(math.Abs(y))
		neg = neg && n%2 == 1
		z = new(big.Float).SetPrec(powPrec).SetInt64(1)
		for b := new(big.Float).Set(bx); n > 0; n >>= 1 {
			if n&1 == 1 {
				z.Mul(z, b)
			}
			b.Mul(b, b)
		}
		if y < 0 {
			z.Quo(new(big.Float).SetPrec(powPrec).SetInt64(1), z)
		}
	} else {
		if neg {
			return math.NaN() // a negative base and a fractional exponent
		}
		t := bigLog(bx)
		t.Mul(t, new(big.Float).SetPrec(powPrec).SetFloat64(y))
		z = bigExp(t)
	}
	f, _ := z.Float64()
	if neg {
		f = -f
	}
	return f
}

var ln2 = sync.OnceValue(func() *big.Float {
	// ln 2 = 2·atanh(1/3).
	third := new(big.Float).SetPrec(powPrec+20).Quo(big.NewFloat(1).SetPrec(powPrec+20), big.NewFloat(3))
	return atanhSeries(third)
})

// atanhSeries is 2·atanh(z) = 2·(z + z³/3 + z⁵/5 + …) for small |z|.
func atanhSeries(z *big.Float) *big.Float {
	prec := z.Prec()
	sum := new(big.Float).SetPrec(prec).Set(z)
	z2 := new(big.Float).SetPrec(prec).Mul(z, z)
	term := new(big.Float).SetPrec(prec).Set(z)
	eps := new(big.Float).SetMantExp(big.NewFloat(1), -int(prec)-4)
	for k := int64(3); ; k += 2 {
		term.Mul(term, z2)
		q := new(big.Float).SetPrec(prec).Quo(term, new(big.Float).SetInt64(k))
		sum.Add(sum, q)
		if q.Sign() == 0 || new(big.Float).Abs(q).Cmp(eps) < 0 {
			break
		}
	}
	return sum.Mul(sum, big.NewFloat(2))
}

// bigLog is the natural logarithm of x > 0.
func bigLog(x *big.Float) *big.Float {
	m := new(big.Float).SetPrec(powPrec)
	e := x.MantExp(m) // x = m·2^e, m in [0.5, 1)
	if m.Cmp(big.NewFloat(math.Sqrt2/2)) < 0 {
		m.SetMantExp(m, 1)
		e--
	}
	one := big.NewFloat(1)
	num := new(big.Float).SetPrec(powPrec).Sub(m, one)
	den := new(big.Float).SetPrec(powPrec).Add(m, one)
	r := atanhSeries(num.Quo(num, den))
	return r.Add(r, new(big.Float).SetPrec(powPrec).Mul(ln2(), new(big.Float).SetInt64(int64(e))))
}

// bigExp is e**t, for t whose result is a finite float64.
func bigExp(t *big.Float) *big.Float {
	// t = k·ln2 + r with |r| <= ln2/2, then e**r = (e**(r/256))**256.
	kf, _ := new(big.Float).Quo(t, ln2()).Float64()
	k := math.Round(kf)
	r := new(big.Float).SetPrec(powPrec).Sub(t, new(big.Float).SetPrec(powPrec).Mul(ln2(), big.NewFloat(k)))
	r.SetMantExp(r, -8)
	sum := new(big.Float).SetPrec(powPrec).SetInt64(1)
	term := new(big.Float).SetPrec(powPrec).SetInt64(1)
	eps := new(big.Float).SetMantExp(big.NewFloat(1), -powPrec-4)
	for n := int64(1); n < 100; n++ {
		term.Mul(term, r)
		term.Quo(term, new(big.Float).SetInt64(n))
		sum.Add(sum, term)
		if term.Sign() == 0 || new(big.Float).Abs(term).Cmp(eps) < 0 {
			break
		}
	}
	for range 8 {
		sum.Mul(sum, sum)
	}
	return sum.SetMantExp(sum, int(k))
}

// roundJS is JavaScript's Math.round: halves round towards +Infinity.
func roundJS(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	r := math.Floor(x)
	if x-r >= 0.5 {
		r++
	}
	if r == 0 && math.Signbit(x) {
		return math.Copysign(0, -1)
	}
	return r
}
