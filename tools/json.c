/* json: the streaming writer of json.h. */
#include "build_config.h"

#include <math.h>

#include "tools/json.h"

static void put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else if (c >= 0x7f)
			fputc('?', f);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* The comma, indentation and "KEY": before a value. */
static void member(struct json_out *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
	fprintf(j->f, "\n%*s", (int)(2 * (j->depth + 1)), "");
	if (key) {
		put_string(j->f, key);
		fputs(": ", j->f);
	}
}

static void open_nested(struct json_out *j, const char *key, char open, char close)
{
	member(j, key);
	fputc(open, j->f);
	j->depth++;
	j->first[j->depth] = true;
	j->closing[j->depth] = close;
}

void json_begin(struct json_out *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->first[0] = true;
	j->closing[0] = '}';
	fputc('{', f);
}

void json_finish(struct json_out *j)
{
	while (j->depth > 0)
		json_close(j);
	fputs("\n}\n", j->f);
	fflush(j->f);
}

void json_object(struct json_out *j, const char *key)
{
	open_nested(j, key, '{', '}');
}

void json_array(struct json_out *j, const char *key)
{
	open_nested(j, key, '[', ']');
}

void json_close(struct json_out *j)
{
	char c = j->closing[j->depth];
	bool empty = j->first[j->depth];

	j->depth--;
	if (!empty)
		fprintf(j->f, "\n%*s", (int)(2 * (j->depth + 1)), "");
	fputc(c, j->f);
}

void json_string(struct json_out *j, const char *key, const char *v)
{
	member(j, key);
	put_string(j->f, v ? v : "");
}

void json_number(struct json_out *j, const char *key, double v)
{
	member(j, key);
	if (isfinite(v))
		fprintf(j->f, "%.17g", v);
	else
		fputs("null", j->f);
}

void json_uint(struct json_out *j, const char *key, unsigned long long v)
{
	member(j, key);
	fprintf(j->f, "%llu", v);
}

void json_bool(struct json_out *j, const char *key, bool v)
{
	member(j, key);
	fputs(v ? "true" : "false", j->f);
}

void json_null(struct json_out *j, const char *key)
{
	member(j, key);
	fputs("null", j->f);
}
