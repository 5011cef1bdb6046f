package faulty

import (
	"fmt"
	"math/big"
	"strings"
)

// Energy is an amount of energy in whole watt-hours; stored and compared exactly (no floats).
type Energy int64

// ParseKWh parses a decimal kWh amount ("12.345", "12", "1.2345E1") into watt-hours, rounding
// half away from zero to the nearest Wh. Thousands separators and decimal commas are refused.
func ParseKWh(s string) (Energy, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			return 0, fmt.Errorf("invalid kWh amount %q", s)
		}
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, fmt.Errorf("invalid kWh amount %q", s)
	}
	r.Mul(r, big.NewRat(1000, 1))
	num, den := new(big.Int).Set(r.Num()), r.Denom()
	neg := num.Sign() < 0
	num.Abs(num)
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	if new(big.Int).Mul(m, big.NewInt(2)).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if !q.IsInt64() || q.Int64() > 1<<53 {
		return 0, fmt.Errorf("kWh amount %q out of range", s)
	}
	v := q.Int64()
	if neg {
		v = -v
	}
	return Energy(v), nil
}

// KWh formats the energy as kWh with three decimals, e.g. "12.345".
func (e Energy) KWh() string {
	v := int64(e)
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%03d", sign, v/1000, v%1000)
}

// String formats the energy as "12.345 kWh".
func (e Energy) String() string { return e.KWh() + " kWh" }
