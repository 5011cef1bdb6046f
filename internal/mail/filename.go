package mail

import "strings"

// windowsReserved are the device names Windows refuses as a file's base name.
var windowsReserved = map[string]bool{"CON": true, "PRN": true, "AUX": true, "NUL": true,
	"COM1": true, "COM2": true, "COM3": true, "COM4": true, "COM5": true, "COM6": true, "COM7": true, "COM8": true, "COM9": true,
	"LPT1": true, "LPT2": true, "LPT3": true, "LPT4": true, "LPT5": true, "LPT6": true, "LPT7": true, "LPT8": true, "LPT9": true}

// SafeFileName makes name a file name every desktop system accepts as it is, Windows
// included: each of * : ? " < > | / \ becomes "-", control characters go, trailing dots and
// spaces go, a reserved device name (CON, NUL, COM1, …) gets a leading "_", and an empty
// result is "file".
func SafeFileName(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case strings.ContainsRune(`*:?"<>|/\`, r):
			b.WriteByte('-')
		case r < 0x20 || r == 0x7f:
		default:
			b.WriteRune(r)
		}
	}
	out := strings.TrimRight(strings.TrimSpace(b.String()), ". ")
	if out == "" {
		return "file"
	}
	base, _, _ := strings.Cut(out, ".")
	if windowsReserved[strings.ToUpper(strings.TrimSpace(base))] {
		out = "_" + out
	}
	return out
}
