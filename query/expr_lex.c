/* The expression lexer: words, "strings", ( ) ! && ||. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr_int.h"

static int is_space(unsigned char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
	    ch == '\v' || ch == '\f';
}

/* A word runs until whitespace or one of the operator characters. */
static int is_word(unsigned char ch)
{
	return !is_space(ch) && ch != '(' && ch != ')' && ch != '!' &&
	    ch != '&' && ch != '|' && ch != '"' && ch >= 0x20 && ch != 0x7f;
}

int tm_expr_errf(struct tm_expr_error *err, int col, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err)
		return -1;
	err->column = col;
	n = snprintf(err->msg, sizeof(err->msg), "column %d: ", col);
	if (n < 0 || (size_t)n >= sizeof(err->msg))
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg + n, sizeof(err->msg) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static int push(struct tok **toks, size_t *n, size_t *cap, uint8_t kind,
    const char *s, size_t len, int col)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct tok *t = realloc(*toks, ncap * sizeof(*t));

		if (!t)
			return -1;
		*toks = t;
		*cap = ncap;
	}
	(*toks)[*n].kind = kind;
	(*toks)[*n].s = s;
	(*toks)[*n].len = len;
	(*toks)[*n].col = col;
	(*n)++;
	return 0;
}

int tm_expr_lex(const char *text, struct tok **toks, size_t *n,
    struct tm_expr_error *err)
{
	size_t i = 0, cap = 0;
	int rc = 0;

	*toks = NULL;
	*n = 0;
	while (rc == 0) {
		unsigned char ch = (unsigned char)text[i];
		int col = (int)i + 1;
		size_t start = i;

		if (i > (size_t)0x7fffff00)
			return tm_expr_errf(err, col, "expression too long");
		if (ch == '\0') {
			rc = push(toks, n, &cap, T_END, text + i, 0, col);
			break;
		}
		if (is_space(ch)) {
			i++;
			continue;
		}
		switch (ch) {
		case '(':
			rc = push(toks, n, &cap, T_LPAREN, text + i, 1, col);
			i++;
			continue;
		case ')':
			rc = push(toks, n, &cap, T_RPAREN, text + i, 1, col);
			i++;
			continue;
		case '!':
			rc = push(toks, n, &cap, T_NOT, text + i, 1, col);
			i++;
			continue;
		case '&':
		case '|':
			if (text[i + 1] != (char)ch) {
				free(*toks);
				*toks = NULL;
				return tm_expr_errf(err, col, "expected "
				    "'%c%c', got a single '%c'", ch, ch, ch);
			}
			rc = push(toks, n, &cap, ch == '&' ? T_AND : T_OR,
			    text + i, 2, col);
			i += 2;
			continue;
		case '"':
			i++;
			while (text[i] != '"') {
				if (text[i] == '\0') {
					free(*toks);
					*toks = NULL;
					return tm_expr_errf(err, col,
					    "unterminated string");
				}
				if (text[i] == '\\' && text[i + 1] != '\0')
					i++;
				i++;
			}
			i++;
			rc = push(toks, n, &cap, T_STRING, text + start,
			    i - start, col);
			continue;
		default:
			break;
		}
		if (!is_word(ch)) {
			free(*toks);
			*toks = NULL;
			return tm_expr_errf(err, col, "unexpected "
			    "character 0x%02x", ch);
		}
		while (is_word((unsigned char)text[i]))
			i++;
		rc = push(toks, n, &cap, T_WORD, text + start, i - start, col);
	}
	if (rc != 0) {
		free(*toks);
		*toks = NULL;
		return tm_expr_errf(err, 1, "out of memory");
	}
	return 0;
}
