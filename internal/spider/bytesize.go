package spider

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ByteSize is a number of bytes that reads and writes human units such as
// "10MiB". It implements encoding.TextMarshaler and TextUnmarshaler, so it
// works with flag.TextVar and text-based config decoders.
type ByteSize int64

// byteUnit returns the number of bytes in unit (case-insensitive): decimal
// units (kB = 1000 bytes), binary ones (KiB = 1024 bytes), "b" or none.
func byteUnit(unit string) (int64, bool) {
	switch strings.ToLower(unit) {
	case "", "b":
		return 1, true
	case "kb":
		return 1e3, true
	case "mb":
		return 1e6, true
	case "gb":
		return 1e9, true
	case "tb":
		return 1e12, true
	case "kib":
		return 1 << 10, true
	case "mib":
		return 1 << 20, true
	case "gib":
		return 1 << 30, true
	case "tib":
		return 1 << 40, true
	}
	return 0, false
}

// ParseByteSize parses a size such as "1000", "512KiB", "10MiB", "1.5MiB",
// "1GiB" or "10MB". Units are case-insensitive; KB, MB, GB and TB are
// decimal, KiB, MiB, GiB and TiB binary. A fractional result is rounded down
// to whole bytes. Negative sizes are rejected.
func ParseByteSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	end := 0
	digits := 0
	dots := 0
	for end < len(t) && (t[end] >= '0' && t[end] <= '9' || t[end] == '.') {
		if t[end] == '.' {
			dots++
		} else {
			digits++
		}
		end++
	}
	mult, ok := byteUnit(strings.TrimSpace(t[end:]))
	if digits == 0 || dots > 1 || !ok {
		return 0, fmt.Errorf("invalid size %q: use a number of bytes with an optional unit, like 512KiB, 10MiB, 1GiB or 10MB", s)
	}
	num := t[:end]
	if dots == 0 {
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || n > math.MaxInt64/mult {
			return 0, fmt.Errorf("size %q is too large", s)
		}
		return n * mult, nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q: use a number of bytes with an optional unit, like 512KiB, 10MiB, 1GiB or 10MB", s)
	}
	// 2^63 is the first float64 above MaxInt64.
	v := math.Floor(f * float64(mult))
	if v >= math.Exp2(63) {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return int64(v), nil
}

// String formats b with the largest binary unit that divides it exactly,
// such as "10MiB", or as plain bytes ("1000").
func (b ByteSize) String() string {
	units := []struct {
		name string
		size int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}}
	for _, u := range units {
		if b != 0 && int64(b)%u.size == 0 {
			return strconv.FormatInt(int64(b)/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(int64(b), 10)
}

// MarshalText implements encoding.TextMarshaler using String.
func (b ByteSize) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler using ParseByteSize.
func (b *ByteSize) UnmarshalText(text []byte) error {
	n, err := ParseByteSize(string(text))
	if err != nil {
		return err
	}
	*b = ByteSize(n)
	return nil
}
