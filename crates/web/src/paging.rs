//! GOV.UK pagination under a list: the links to the previous, next and numbered pages, each
//! keeping the list's filters in its address.

use marac_domain::paging::{Page, PageLink, PageRequest, links};

/// The address of a paged list that has no other filters: which page (anything unreadable is
/// the first).
#[derive(Debug, Default, serde::Deserialize)]
pub struct PageQuery {
    page: Option<String>,
}

impl PageQuery {
    /// The page asked for.
    #[must_use]
    pub fn request(&self) -> PageRequest {
        PageRequest::from_query(self.page.as_deref())
    }
}

/// One numbered link, or a gap.
pub struct PageItem {
    /// The page's number; 0 for a gap.
    pub number: u32,
    /// Its address.
    pub href: String,
    /// It is the page shown.
    pub current: bool,
}

/// The pagination under a list, and the line that says what the page shows.
pub struct Pagination {
    /// "Showing 26 to 50 of 777".
    pub showing: String,
    /// The previous page's address.
    pub previous: Option<String>,
    /// The next page's address.
    pub next: Option<String>,
    /// Numbered links and gaps; empty when the list fits on one page.
    pub items: Vec<PageItem>,
}

/// The address of the list at `path` with `filters`, leaving out those that are empty so an
/// address holds only what was chosen.
#[must_use]
pub fn filtered_href(path: &str, filters: &[(&str, String)]) -> String {
    let pairs: Vec<&(&str, String)> = filters.iter().filter(|(_, v)| !v.is_empty()).collect();
    match serde_urlencoded::to_string(&pairs) {
        Ok(q) if !q.is_empty() => format!("{path}?{q}"),
        _ => path.to_owned(),
    }
}

impl Pagination {
    /// The links for `page` of the list at `path`, whose filters are `filters` (left out when
    /// empty, so an address holds only what was chosen).
    #[must_use]
    pub fn new<T>(page: &Page<T>, path: &str, filters: &[(&str, String)]) -> Self {
        let href = |n: u32| {
            let mut pairs: Vec<(&str, String)> = filters.to_vec();
            if n > 1 {
                pairs.push(("page", n.to_string()));
            }
            filtered_href(path, &pairs)
        };
        let (current, pages) = (page.request.number, page.pages());
        let items = if pages > 1 {
            links(current, pages)
                .into_iter()
                .map(|l| match l {
                    PageLink::Number(n, current) => PageItem { number: n, href: href(n), current },
                    PageLink::Gap => PageItem { number: 0, href: String::new(), current: false },
                })
                .collect()
        } else {
            Vec::new()
        };
        Self {
            showing: page.showing(),
            previous: (current > 1 && current <= pages).then(|| href(current - 1)),
            next: (current < pages).then(|| href(current + 1)),
            items,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use marac_domain::paging::PageRequest;

    #[test]
    fn links_keep_the_filters_and_leave_out_empty_ones() {
        let page = Page { rows: vec![(); 25], total: 80, request: PageRequest::from_query(Some("2")) };
        let p = Pagination::new(&page, "/actions", &[("status", "overdue".into()), ("agency", String::new())]);
        assert_eq!(p.previous.as_deref(), Some("/actions?status=overdue"));
        assert_eq!(p.next.as_deref(), Some("/actions?status=overdue&page=3"));
        assert_eq!(p.items.iter().map(|i| i.number).collect::<Vec<_>>(), [1, 2, 3, 4]);
        assert!(p.items[1].current);
        assert_eq!(p.showing, "Showing 26 to 50 of 80");
    }

    #[test]
    fn one_page_has_no_links() {
        let page = Page { rows: vec![(); 3], total: 3, request: PageRequest::default() };
        let p = Pagination::new(&page, "/research", &[]);
        assert!(p.items.is_empty() && p.previous.is_none() && p.next.is_none());
    }
}
