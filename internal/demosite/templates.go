package demosite

// templates are the site's html/template definitions. "layout" wraps a
// page whose body is the template named by .Body.
const templates = `
{{define "layout"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="{{.Charset}}">
<title>{{.Title}} | Quotes to Trawl</title>
</head>
<body>
<div class="container">
<header class="header">
<h1><a href="/">Quotes to Trawl</a></h1>
<p class="login"><a href="/login">Login</a></p>
</header>
{{if eq .Body "listing"}}{{template "listing" .}}{{else if eq .Body "author"}}{{template "author" .}}{{else if eq .Body "login"}}{{template "login" .}}{{else}}{{template "message" .}}{{end}}
<footer class="footer">
<p>A deterministic demo site for trawl. Some links lead to pages that are broken on purpose:
<a href="/broken/500">server error</a> ·
<a href="/broken/404">missing page</a> ·
<a href="/broken/malformed">malformed HTML</a> ·
<a href="/broken/latin1">Latin-1 page</a> ·
<a href="/slow">slow page</a></p>
</footer>
</div>
</body>
</html>
{{end}}

{{define "listing"}}<div class="row">
<div class="col-md-8">
{{with .Tag}}<h3>Viewing tag: <a class="tag" href="/tag/{{.}}/">{{.}}</a></h3>
{{end}}{{range .Quotes}}<div class="quote" itemscope itemtype="http://schema.org/CreativeWork">
<span class="text" itemprop="text">“{{.Text}}”</span>
<span>by <small class="author" itemprop="author">{{.Author}}</small>
<a href="/author/{{.AuthorSlug}}/">(about)</a>
</span>
<div class="tags">
Tags:
{{range .Tags}}<a class="tag" href="/tag/{{.}}/">{{.}}</a>
{{end}}</div>
</div>
{{end}}<nav>
<ul class="pager">
{{with .Prev}}<li class="previous"><a href="{{.}}"><span aria-hidden="true">←</span> Previous</a></li>
{{end}}{{with .Next}}<li class="next"><a href="{{.}}">Next <span aria-hidden="true">→</span></a></li>
{{end}}</ul>
</nav>
</div>
{{with .TopTags}}<div class="col-md-4 tags-box">
<h2>Top Ten tags</h2>
{{range .}}<span class="tag-item"><a class="tag" href="/tag/{{.}}/">{{.}}</a></span>
{{end}}</div>
{{end}}</div>
{{end}}

{{define "author"}}<div class="author-details">
<h3 class="author-title">{{.Author.Name}}</h3>
<p><strong>Born:</strong> <span class="author-born-date">{{.Author.Born}}</span>
<span class="author-born-location">{{.Author.Location}}</span></p>
<p><strong>Description:</strong></p>
<div class="author-description">
{{.Author.Description}}
</div>
</div>
{{end}}

{{define "login"}}<form action="/login" method="post" class="login-form">
<p>{{.Message}}</p>
<label>Username <input type="text" name="username"></label>
<label>Password <input type="password" name="password"></label>
<input type="submit" value="Login">
</form>
{{end}}

{{define "message"}}<div class="message">
<h2>{{.Title}}</h2>
<p>{{.Message}}</p>
</div>
{{end}}
`
