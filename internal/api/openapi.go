package api

import (
	"strconv"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// obj is a JSON object of the OpenAPI document.
type obj = map[string]any

// openAPIDocument returns the OpenAPI 3.0 document of the API: every route
// that routes serves (a test compares the two), with its parameters, bodies,
// responses and the problem schema. withMetrics adds GET /metrics, which is
// served only when the service has metrics.
func openAPIDocument(withMetrics bool) obj {
	paths := obj{
		"/healthz": obj{"get": open(op("health", "The process is up.",
			nil, nil, obj{"200": jsonResp("The process is up.", ref("Status"))}))},
		"/readyz": obj{"get": open(op("ready", "The database is reachable and its schema current.",
			nil, nil, obj{"200": jsonResp("Ready.", ref("Status")), "503": problemResp("Not ready.")}))},
		"/v1/openapi.json": obj{"get": op("openapi", "This document.", nil, nil,
			withAuth(obj{"200": jsonResp("The OpenAPI document.", obj{"type": "object"})}, false))},
		"/v1/spiders": obj{"get": op("listSpiders", "Stored spiders by name, paged by cursor.",
			[]obj{limitParam(defaultListLimit, maxListLimit), cursorParam()}, nil,
			withAuth(obj{"200": jsonResp("A page of spiders.", ref("SpiderList")), "400": problemResp("Bad parameter or cursor.")}, false))},
		"/v1/spiders/{name}": obj{
			"parameters": []obj{pathParam("name", "The spider's name.")},
			"get": op("getSpider", "A stored spider.", nil, nil,
				withAuth(obj{"200": jsonResp("The spider.", ref("Spider")), "404": problemResp("No such spider.")}, false)),
			"put": op("putSpider", "Create or replace a spider. The body is the spider file, validated as `trawl check` does; "+
				"its name must be the one in the URL. The spider's schedule follows.", nil, spiderBody(),
				withAuth(obj{
					"200": jsonResp("Replaced (or unchanged).", ref("Spider")),
					"201": jsonResp("Created.", ref("Spider")),
					"400": problemResp("Unreadable body."),
					"413": problemResp("Body over the size limit."),
					"422": problemResp("Invalid spider: errors lists every problem."),
				}, true)),
			"delete": op("deleteSpider", "Delete a spider and its schedule; its runs and dataset stay.", nil, nil,
				withAuth(obj{"204": obj{"description": "Deleted."}, "404": problemResp("No such spider.")}, true)),
		},
		"/v1/spiders/{name}/runs": obj{
			"parameters": []obj{pathParam("name", "The spider's name.")},
			"post": op("submitRun", "Queue a run of the spider, now or at run_at.", nil, submitBody(),
				withAuth(obj{
					"202": jsonResp("The queued run.", ref("Run")),
					"400": problemResp("Malformed body."),
					"404": problemResp("No such spider."),
					"409": problemResp("A run of the spider is already queued or running."),
					"413": problemResp("Body over the size limit."),
					"415": problemResp("Body not JSON."),
				}, true)),
		},
		"/v1/runs": obj{"get": op("listRuns", "Runs, newest first, filtered and paged by cursor.",
			[]obj{
				queryParam("spider", "Only runs of this spider.", obj{"type": "string"}),
				queryParam("status", "Only runs with this status.", runStatusSchema()),
				limitParam(defaultListLimit, maxListLimit), cursorParam(),
			}, nil,
			withAuth(obj{"200": jsonResp("A page of runs.", ref("RunList")), "400": problemResp("Bad parameter or cursor.")}, false))},
		"/v1/runs/{id}": obj{
			"parameters": []obj{runIDParam()},
			"get": op("getRun", "A run: status and statistics.", nil, nil,
				withAuth(obj{"200": jsonResp("The run.", ref("Run")), "404": problemResp("No such run.")}, false)),
		},
		"/v1/runs/{id}/cancel": obj{
			"parameters": []obj{runIDParam()},
			"post": op("cancelRun", "Cancel a queued run at once, or ask a running run to stop (within 2 s).", nil, cancelBody(),
				withAuth(obj{
					"202": jsonResp("The run after the request.", ref("Run")),
					"400": problemResp("Malformed body."),
					"413": problemResp("Body over the size limit."),
					"415": problemResp("Body not JSON."),
					"404": problemResp("No such run."),
					"409": problemResp("The run already finished."),
				}, true)),
		},
		"/v1/runs/{id}/events": obj{
			"parameters": []obj{runIDParam(), {"name": "Last-Event-ID", "in": "header", "required": false,
				"description": "The id of the last event received, when reconnecting.", "schema": obj{"type": "string"}}},
			"get": op("runEvents", "Server-Sent Events of a run: `progress` (data: ProgressEvent) about once a second, "+
				"then `end` (data: Run), after which the server closes the stream. `id:` is a sequence number. "+
				"A finished run gets `end` at once.", nil, nil,
				withAuth(obj{
					"200": obj{"description": "The event stream.", "content": obj{"text/event-stream": obj{"schema": obj{"type": "string"}}}},
					"404": problemResp("No such run."),
				}, false)),
		},
		"/v1/runs/{id}/hosts": obj{
			"parameters": []obj{runIDParam()},
			"get": op("runHosts", "Per-host statistics of a run, by host: requests, status classes, failed pages by class, "+
				"latency percentiles, pace and robots.txt state. Live while the run crawls (as of its last commit), kept once it ended.", nil, nil,
				withAuth(obj{"200": jsonResp("The run's hosts.", ref("HostList")), "404": problemResp("No such run.")}, false)),
		},
		"/v1/runs/{id}/failed": obj{
			"parameters": []obj{runIDParam()},
			"get": op("runFailed", "The run's failed pages with their error class and text, in the order they were admitted "+
				"(a compacted run keeps its first 1000).", []obj{limitParam(defaultFailedLimit, maxFailedLimit)}, nil,
				withAuth(obj{"200": jsonResp("The failed pages.", ref("FailedPageList")), "400": problemResp("A bad limit."),
					"404": problemResp("No such run.")}, false)),
		},
		"/v1/runs/{id}/series": obj{
			"parameters": []obj{runIDParam()},
			"get": op("runSeries", "The run's progress over time: its cumulative statistics sampled about once per interval_s "+
				"(1 s, widened so that a run keeps at most 1000 points); the last point is the final statistics once it ended.", nil, nil,
				withAuth(obj{"200": jsonResp("The samples, oldest first.", ref("Series")), "404": problemResp("No such run.")}, false)),
		},
		"/v1/schedules": obj{"get": op("listSchedules", "Every stored spider with a schedule, soonest next fire first.", nil, nil,
			withAuth(obj{"200": jsonResp("The schedules.", ref("ScheduleList")), "400": problemResp("Unknown parameter.")}, false))},
		"/v1/try": obj{"post": op("try", "Dry run: fetch one page with a spider (not stored) and show its items, the links each "+
			"follow rule finds (in or out of scope, followed or not) and the item rules matched. Stores nothing. "+
			"A failed fetch is a problem of the result, not an error.", nil, tryBody(),
			withAuth(obj{
				"200": jsonResp("What a run would do with the page.", ref("TryResult")),
				"400": problemResp("Malformed body or URL."),
				"413": problemResp("Body over the size limit."),
				"415": problemResp("Body not JSON."),
				"422": problemResp("Invalid spider: errors lists every problem."),
				"503": problemResp("Dry runs are not enabled on this server."),
			}, true))},
		"/v1/datasets": obj{"get": op("listDatasets", "Every dataset with its columns and item count.", nil, nil,
			withAuth(obj{"200": jsonResp("The datasets.", ref("DatasetList"))}, false))},
		"/v1/datasets/{name}/items": obj{
			"parameters": []obj{pathParam("name", "The dataset's name (its spider's).")},
			"get": op("items", "A page of the dataset's items, in first-stored order, filtered.",
				itemParams(true), nil, withAuth(itemsResponses(jsonResp("A page of items.", ref("ItemPage"))), false)),
		},
		"/v1/datasets/{name}/items.csv": obj{
			"parameters": []obj{pathParam("name", "The dataset's name (its spider's).")},
			"get": op("itemsCSV", "Every item the query selects, streamed as CSV (docs/csv.md).",
				itemParams(false), nil, withAuth(itemsResponses(obj{"description": "The items as CSV with a header row.",
					"content": obj{"text/csv": obj{"schema": obj{"type": "string"}}}}), false)),
		},
		"/v1/datasets/{name}/items.jsonl": obj{
			"parameters": []obj{pathParam("name", "The dataset's name (its spider's).")},
			"get": op("itemsJSONL", "Every item the query selects, streamed as JSON lines.",
				itemParams(false), nil, withAuth(itemsResponses(obj{"description": "One JSON object per line.",
					"content": obj{"application/x-ndjson": obj{"schema": obj{"type": "string"}}}}), false)),
		},
		"/v1/datasets/{name}/fields/{field}": obj{
			"parameters": []obj{pathParam("name", "The dataset's name."), pathParam("field", "A column of the dataset.")},
			"get": op("fieldValues", "The field's distinct values with how many items have each, most frequent first.",
				[]obj{limitParam(defaultValuesLimit, maxValuesLimit)}, nil,
				withAuth(obj{
					"200": jsonResp("The values.", ref("FieldValues")),
					"400": problemResp("Not a column of the dataset, or a bad limit."),
					"404": problemResp("No such dataset."),
				}, false)),
		},
	}
	if withMetrics {
		paths["/metrics"] = obj{"get": open(op("metrics", "Prometheus metrics in the text exposition format.", nil, nil,
			obj{"200": obj{"description": "The metrics.", "content": obj{"text/plain": obj{"schema": obj{"type": "string"}}}}}))}
	}
	return obj{
		"openapi": "3.0.3",
		"info": obj{
			"title":       "trawl API",
			"version":     "v1 (trawl " + trawl.Version + ")",
			"description": "The HTTP API of `trawl serve`. Errors are RFC 9457 problem+json documents with a stable `code` (docs/api.md).",
		},
		"paths":    paths,
		"security": []obj{{"bearer": []string{}}},
		"components": obj{
			"securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer",
				"description": "Needed on /v1 when the server has a token. A read-only token may use GET routes only."}},
			"schemas": schemas(),
		},
	}
}

// op is one operation.
func op(id, summary string, params []obj, body obj, responses obj) obj {
	o := obj{"operationId": id, "summary": summary, "responses": responses}
	if params != nil {
		o["parameters"] = params
	}
	if body != nil {
		o["requestBody"] = body
	}
	return o
}

// open marks an operation as needing no token.
func open(o obj) obj {
	o["security"] = []obj{}
	return o
}

// withAuth adds the responses of the token check (401, and 403 for a
// route the read-only token may not use: writes) and 500, which any /v1
// route may answer.
func withAuth(r obj, write bool) obj {
	r["401"] = problemResp("Missing or wrong token.")
	r["500"] = problemResp("Internal error: the details are in the server's log, not here.")
	if write {
		r["403"] = problemResp("The read-only token may not do this.")
	}
	return r
}

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func jsonResp(desc string, schema obj) obj {
	return obj{"description": desc, "content": obj{"application/json": obj{"schema": schema}}}
}

func problemResp(desc string) obj {
	return obj{"description": desc, "content": obj{"application/problem+json": obj{"schema": ref("Problem")}}}
}

func pathParam(name, desc string) obj {
	return obj{"name": name, "in": "path", "required": true, "description": desc, "schema": obj{"type": "string"}}
}

func runIDParam() obj {
	return obj{"name": "id", "in": "path", "required": true, "description": "The run's id.",
		"schema": obj{"type": "integer", "format": "int64", "minimum": 1}}
}

func queryParam(name, desc string, schema obj) obj {
	return obj{"name": name, "in": "query", "description": desc, "schema": schema}
}

func limitParam(def, max int) obj {
	return queryParam("limit", "Page size, default "+strconv.Itoa(def)+".",
		obj{"type": "integer", "minimum": 1, "maximum": max, "default": def})
}

func cursorParam() obj {
	return queryParam("cursor", "The next_cursor of the previous page; none for the first page.", obj{"type": "string"})
}

func runStatusSchema() obj {
	return obj{"type": "string", "enum": []string{"queued", "running", "succeeded", "failed", "canceled"}}
}

// itemParams are the parameters of the items routes; paged adds the page
// size's default.
func itemParams(paged bool) []obj {
	limit := limitParam(defaultItemsLimit, maxItemsLimit)
	if !paged {
		limit = queryParam("limit", "At most this many items; default all.", obj{"type": "integer", "minimum": 1})
	}
	return []obj{
		limit, cursorParam(),
		queryParam("fields", "Projection: comma-separated field names, in the order wanted (_url included).", obj{"type": "string"}),
		queryParam("since", "Only items stored or updated after this time (RFC 3339).", obj{"type": "string", "format": "date-time"}),
		queryParam("match", "fold makes every filter case-insensitive.", obj{"type": "string", "enum": []string{"exact", "fold"}, "default": "exact"}),
		{"name": "where", "in": "query", "style": "form", "explode": true,
			"description": "A filter FIELD=VALUE (FIELD~=VALUE ignores case), for fields named like a parameter; repeatable.",
			"schema":      obj{"type": "array", "items": obj{"type": "string"}}},
		{"name": "filters", "in": "query", "style": "form", "explode": true,
			"description": "Any other parameter FIELD=VALUE is a filter: a field equals VALUE, or a list field has an element " +
				"equal to it; FIELD~=VALUE ignores case. Filters are ANDed; a field is filtered once at most.",
			"schema": obj{"type": "object", "additionalProperties": obj{"type": "string"}}},
	}
}

func itemsResponses(ok obj) obj {
	return obj{
		"200": ok,
		"400": problemResp("Unknown field (the detail lists the columns), bad parameter or cursor."),
		"404": problemResp("No such dataset."),
	}
}

func spiderBody() obj {
	src := obj{"schema": obj{"type": "string"}}
	return obj{"required": true, "description": "The spider file, YAML or JSON (docs/spider.md).",
		"content": obj{"application/yaml": src, "text/yaml": src, "application/json": obj{"schema": obj{"type": "object"}}}}
}

func cancelBody() obj {
	return obj{"required": false, "description": "None, or an empty JSON object.",
		"content": obj{"application/json": obj{"schema": obj{"type": "object", "additionalProperties": false}}}}
}

func tryBody() obj {
	return obj{"required": true, "content": obj{"application/json": obj{"schema": obj{
		"type": "object", "additionalProperties": false, "required": []string{"spider"},
		"properties": obj{
			"spider":        obj{"type": "string", "description": "The spider file's text, YAML or JSON (docs/spider.md)."},
			"url":           obj{"type": "string", "description": "The page to try; default the spider's first start URL."},
			"validate_only": obj{"type": "boolean", "description": "Only validate the spider (422 with every problem, or 200 with nothing tried): no page is fetched."},
		},
	}}}}
}

func submitBody() obj {
	return obj{"required": false, "content": obj{"application/json": obj{"schema": obj{
		"type": "object", "additionalProperties": false,
		"properties": obj{"run_at": obj{"type": "string", "format": "date-time", "description": "Start at this time instead of now."}},
	}}}}
}

var (
	integer  = obj{"type": "integer", "format": "int64"}
	str      = obj{"type": "string"}
	dateTime = obj{"type": "string", "format": "date-time"}
)

func object(required []string, props obj) obj {
	o := obj{"type": "object", "properties": props}
	if required != nil {
		o["required"] = required
	}
	return o
}

func array(items obj) obj { return obj{"type": "array", "items": items} }

func schemas() obj {
	return obj{
		"Status": object([]string{"status"}, obj{"status": str}),
		"Problem": object([]string{"type", "title", "status", "detail", "code"}, obj{
			"type": str, "title": str, "status": obj{"type": "integer"}, "detail": str,
			"code": obj{"type": "string", "enum": []string{
				trawl.EINVALID, trawl.EINVALIDSPIDER, trawl.ENOTFOUND, trawl.ECONFLICT, trawl.EUNAUTHORIZED, trawl.EFORBIDDEN,
				trawl.ETOOLARGE, codeMethodNotAllowed, codeUnsupportedMediaType, trawl.ECANCELED, codeUnavailable, trawl.EINTERNAL,
			}},
			"errors": array(ref("SpiderProblem")),
		}),
		"SpiderProblem": object([]string{"path", "line", "column", "message"}, obj{
			"path": str, "line": obj{"type": "integer"}, "column": obj{"type": "integer"}, "message": str,
		}),
		"Spider": object([]string{"name", "format", "source", "hash", "version", "created_at", "updated_at"}, obj{
			"name": str, "format": obj{"type": "string", "enum": []string{"yaml", "json"}}, "source": str, "hash": str,
			"version": integer, "created_at": dateTime, "updated_at": dateTime, "schedule": str, "next_run_at": dateTime,
		}),
		"SpiderList": object([]string{"spiders"}, obj{"spiders": array(ref("Spider")), "next_cursor": str}),
		"Run": object([]string{"id", "spider", "spec_hash", "status", "stats", "created_at", "dataset"}, obj{
			"id": integer, "spider": str, "spec_hash": str, "status": runStatusSchema(), "error": str,
			"stats": ref("RunStats"), "created_at": dateTime, "started_at": dateTime, "finished_at": dateTime,
			"dataset": str, "run_at": dateTime,
		}),
		"RunStats": object([]string{"pages", "items", "invalid", "errors", "bytes", "queued"}, obj{
			"pages": integer, "items": integer, "invalid": integer,
			"errors": obj{"type": "object", "additionalProperties": integer, "description": "Failed pages by error class."},
			"bytes":  integer, "queued": integer, "links_capped": integer,
			"rules": array(object([]string{"pages", "matched"}, obj{"pages": integer, "matched": integer, "scripted": integer})),
		}),
		"RunList": object([]string{"runs"}, obj{"runs": array(ref("Run")), "next_cursor": str}),
		"ProgressEvent": object([]string{"run", "rate", "queued"}, obj{
			"run": ref("Run"), "rate": obj{"type": "number", "description": "Pages per second."},
			"queued": obj{"type": "integer", "description": "Admitted URLs not fetched yet."},
		}),
		"Dataset": object([]string{"name", "columns", "items", "updated_at"}, obj{
			"name": str, "columns": array(str), "items": integer, "last_run": integer, "updated_at": dateTime,
		}),
		"DatasetList": object([]string{"datasets"}, obj{"datasets": array(ref("Dataset"))}),
		"ItemPage": object([]string{"items"}, obj{
			"items": array(obj{"type": "object", "additionalProperties": true}), "next_cursor": str,
		}),
		"FailedPageList": object([]string{"pages"}, obj{"pages": array(object([]string{"url", "error_class", "attempts"}, obj{
			"url": str, "status": obj{"type": "integer", "description": "The HTTP status; absent when no response arrived."},
			"error_class": str, "error": str, "attempts": obj{"type": "integer"},
		}))}),
		"HostList": object([]string{"hosts"}, obj{"hosts": array(object([]string{"host", "requests", "status", "errors",
			"latency_p50_ms", "latency_p95_ms", "in_flight", "delay_ms", "robots", "throttled", "down"}, obj{
			"host":     str,
			"requests": obj{"type": "integer", "format": "int64", "description": "Requests sent for pages, retries included."},
			"status": object([]string{"2xx", "3xx", "4xx", "5xx", "none"}, obj{
				"2xx": integer, "3xx": integer, "4xx": integer, "5xx": integer,
				"none": obj{"type": "integer", "format": "int64", "description": "Requests without a response."},
			}),
			"errors":         obj{"type": "object", "additionalProperties": integer, "description": "Failed pages by error class."},
			"latency_p50_ms": obj{"type": "number"}, "latency_p95_ms": obj{"type": "number"},
			"in_flight": integer, "delay_ms": integer,
			"robots":    obj{"type": "string", "enum": []string{"allowed", "disallowed_some", "unreachable", "not_checked"}},
			"throttled": integer, "down": obj{"type": "boolean"},
		}))}),
		"Series": object([]string{"interval_s", "points"}, obj{
			"interval_s": integer,
			"points": array(object([]string{"t", "pages", "items", "bytes", "errors"}, obj{
				"t": dateTime, "pages": integer, "items": integer, "bytes": integer,
				"errors": obj{"type": "object", "additionalProperties": integer},
			})),
		}),
		"ScheduleList": object([]string{"schedules"}, obj{"schedules": array(object([]string{"spider", "schedule", "next_run_at"}, obj{
			"spider": str, "schedule": str, "next_run_at": dateTime, "last_fired_at": dateTime,
		}))}),
		"TryResult": object([]string{"url", "status", "items", "links", "rules", "problems"}, obj{
			"url": str, "status": obj{"type": "integer", "description": "0 when no response arrived."},
			"items": array(obj{"type": "object", "additionalProperties": true}),
			"links": array(object([]string{"rule", "url", "in_scope", "followed", "reason"}, obj{
				"rule": obj{"type": "integer", "description": "Index of the follow rule."}, "url": str,
				"in_scope": obj{"type": "boolean"}, "followed": obj{"type": "boolean"}, "reason": str,
			})),
			"rules": array(object([]string{"rule", "kind", "matched", "count"}, obj{
				"rule": obj{"type": "integer", "description": "Index of the item rule."},
				"kind": obj{"type": "string", "enum": []string{"item"}}, "matched": obj{"type": "boolean"}, "count": obj{"type": "integer"},
			})),
			"problems": array(ref("SpiderProblem")),
		}),
		"FieldValues": object([]string{"field", "values"}, obj{
			"field":  str,
			"values": array(object([]string{"value", "count"}, obj{"value": str, "count": integer})),
		}),
	}
}
