// Package ezpass reads E-ZPass account exports (the CSV or Excel files staff
// download from the E-ZPass web site) into typed rows. It is pure: no
// database, no network, no clock (DESIGN §5.2).
//
// # Formats
//
// Three layouts are known and told apart by their header row alone (see
// [Format] and [DetectFormat]). Header names are compared whole, after
// trimming spaces and a byte-order mark, collapsing runs of spaces and folding
// case; never by substring. Column order does not matter and unknown columns
// are ignored. Up to ten leading title or note rows may precede the header.
//
// # Amounts
//
// Money is integer cents; no float64 is involved. [Row.AmountCents] has one
// sign for every format: positive means the driver owes (a toll), negative is
// a credit. Format A writes tolls as negative amounts, format B in
// parentheses, format C as positive amounts; the reader flips the sign of A
// and B. Numeric Excel cells are binary floating point, so a cell holding
// 9.1099999999999994 reads as 911 cents; a numeric cell that is not within a
// hundredth of a cent of a whole cent is a row error.
//
// # Times
//
// Transaction times are wall-clock times in [Options.Location] (default
// America/New_York). The rule for daylight saving time is explicit:
//
//   - a wall time that occurs twice (the hour repeated when DST ends, e.g.
//     1:30 AM on 1 November 2026) is its first occurrence, in daylight time;
//   - a wall time that does not exist (the hour skipped when DST begins, e.g.
//     2:30 AM on 8 March 2026) is moved forward by the length of the gap, to
//     3:30 AM daylight time.
//
// [Row.TxnAt] is the exit time for formats A and B; for format C it is the
// exit time if present, else the entry time. A time cell without a date takes
// the row's date (Date, or TRANSACTION DATE); a row with a date but no time is
// at midnight. Excel date cells (serial numbers) are converted, honouring the
// workbook's 1904 date system.
//
// # Kinds
//
// Every row gets a [Kind], decided in this order:
//
//  1. tag_fee when Class, Exit Plaza or Activity holds the words
//     TAG LEASING FEE, payment when one of them holds the word PAYMENT
//     ("PAYMENT", "PAYMENT - THANK YOU"). Words are compared whole and
//     case-insensitively: "PAYMENTS" or "PREPAYMENT" do not count;
//  2. excluded when an [ExclusionRule] matches the agency and/or a plaza
//     (default: congestion pricing, agency or plaza CBDTP);
//  3. credit when the stored amount is negative, otherwise toll. A zero
//     amount is a toll of 0 cents (posting refuses it later).
//
// Only tolls and credits are meant to be matched to drivers and posted.
//
// # Errors
//
// A file that cannot be read at all yields a [*FileError] or, when its
// header fits no format, a [*FormatError]. A bad row yields a [*RowError] and
// the reader carries on with the next row. Messages are written for finance
// staff. No input makes the package panic.
package ezpass
