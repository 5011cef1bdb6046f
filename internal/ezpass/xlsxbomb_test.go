package ezpass

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// bombXLSX returns a normal workbook (header and one good row) with an extra
// row 9 whose cell C9 holds n bytes of text, written as an inline string
// split into runs of run bytes (rich text), or into the shared strings when
// shared is set. The cell is streamed into the zip, so the file stays small.
func bombXLSX(t testing.TB, n, run int, shared bool) []byte {
	t.Helper()
	base := buildXLSX(t, workbook{rows: [][]any{
		headerCells(headerA),
		{1, "00812345678", "MTAB&T", "", "VERRAZANO", 1, "1/2/2026", "07:42:13", -6.94},
	}})
	zr, err := zip.NewReader(bytes.NewReader(base), int64(len(base)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	text := func(w io.Writer) {
		chunk := []byte(strings.Repeat("A", 64<<10))
		for left := n; left > 0; {
			seg := min(left, run)
			_, _ = io.WriteString(w, "<r><t>")
			for s := seg; s > 0; {
				k := min(s, len(chunk))
				_, _ = w.Write(chunk[:k])
				s -= k
			}
			_, _ = io.WriteString(w, "</t></r>")
			left -= seg
		}
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(rc)
		rc.Close()
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case f.Name == "xl/worksheets/sheet1.xml":
			head, tail, _ := strings.Cut(string(body), "</sheetData>")
			_, _ = io.WriteString(w, head)
			if shared {
				_, _ = io.WriteString(w, `<row r="9"><c r="C9" t="s"><v>0</v></c></row>`)
			} else {
				_, _ = io.WriteString(w, `<row r="9"><c r="C9" t="inlineStr"><is>`)
				text(w)
				_, _ = io.WriteString(w, `</is></c></row>`)
			}
			_, _ = io.WriteString(w, "</sheetData>"+tail)
		case f.Name == "xl/sharedStrings.xml" && shared:
			_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+
				`<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si>`)
			text(w)
			_, _ = io.WriteString(w, `</si></sst>`)
		default:
			_, _ = w.Write(body)
		}
	}
	if shared && zr.File != nil {
		if _, err := zr.Open("xl/sharedStrings.xml"); err != nil {
			t.Fatal("the base workbook has no shared strings")
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestXLSXHugeCellRefusesTheFile(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		n, run int
		shared bool
	}{
		{"inline 1 MiB", 1 << 20, 1 << 20, false},
		{"inline rich text runs", 1 << 20, 16 << 10, false},
		{"shared string 1 MiB", 1 << 20, 1 << 20, true},
	} {
		data := bombXLSX(t, c.n, c.run, c.shared)
		_, err := Open(bytes.NewReader(data), int64(len(data)), "bomb.xlsx", Options{})
		var fe *FileError
		if !errors.As(err, &fe) || !errors.Is(err, errHugeCell) || !strings.Contains(fe.Message, "not an E-ZPass export") {
			t.Errorf("%s: Open = %v; want the file refused for its huge cell", c.name, err)
		}
	}
}

func TestXLSXCellOverExcelLimitIsARowError(t *testing.T) {
	t.Parallel()
	data := bombXLSX(t, MaxCellChars+1, MaxCellChars+1, false)
	got := readBytes(t, data, "long.xlsx", Options{})
	if len(got.rows) != 1 || len(got.errs) != 1 || got.errs[0].Line != 9 || !strings.Contains(got.errs[0].Message, "32767") {
		t.Fatalf("rows %d, errors %+v; want the good row and a row error on line 9", len(got.rows), got.errs)
	}
}

func TestFieldLongerThanStoredIsARowError(t *testing.T) {
	t.Parallel()
	got := readCSV(t, headerA,
		`1,00812345678,MTAB&T,,VERRAZANO,1,1/2/2026,07:42:13,-$6.94`,
		`2,00812345678,`+strings.Repeat("X", 101)+`,,VERRAZANO,1,1/2/2026,07:42:13,-$6.94`,
	)
	if len(got.rows) != 1 || len(got.errs) != 1 || got.errs[0].Column != "Agency" || len(got.errs[0].Value) > 210 {
		t.Fatalf("rows %d, errors %+v; want a row error on Agency", len(got.rows), got.errs)
	}
}

// TestXLSXCellBombPeakRSS reads a workbook with one 300 MB cell in a child
// process and checks the child's peak RSS.
func TestXLSXCellBombPeakRSS(t *testing.T) {
	if path := os.Getenv("EZPASS_BOMB_FILE"); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Open(bytes.NewReader(data), int64(len(data)), "bomb.xlsx", Options{})
		if !errors.Is(err, errHugeCell) {
			t.Fatalf("Open = %v; want the huge cell refused", err)
		}
		return
	}
	if testing.Short() {
		t.Skip("builds a 300 MB cell")
	}
	t.Parallel()
	dir := t.TempDir()
	for _, shared := range []bool{false, true} {
		path := filepath.Join(dir, "bomb.xlsx")
		data := bombXLSX(t, 300<<20, 300<<20, shared)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestXLSXCellBombPeakRSS$", "-test.count=1")
		cmd.Env = append(os.Environ(), "EZPASS_BOMB_FILE="+path)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		peak := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10
		t.Logf("cell bomb (shared strings %v): file %d KiB, child peak RSS %d MiB", shared, len(data)>>10, peak>>20)
		if peak > 300<<20 {
			t.Errorf("peak RSS %d MiB; want under 300 MiB", peak>>20)
		}
	}
}
