//! Lists shown a page at a time: which rows a page asks the database for, and the links that
//! move between pages (GOV.UK pagination: first, last and the pages either side of the current
//! one, with gaps shown as ellipses).

/// The rows a page holds when nothing says otherwise.
pub const PAGE_SIZE: u32 = 25;

/// A page asked for: its number (from 1) and how many rows it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// The page, from 1.
    pub number: u32,
    /// Rows per page.
    pub size: u32,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self { number: 1, size: PAGE_SIZE }
    }
}

impl PageRequest {
    /// The page `number` (anything unreadable or below 1 is the first page).
    #[must_use]
    pub fn from_query(number: Option<&str>) -> Self {
        let number = number.and_then(|n| n.trim().parse::<u32>().ok()).filter(|n| *n >= 1).unwrap_or(1);
        Self { number, size: PAGE_SIZE }
    }

    /// Rows to skip.
    #[must_use]
    pub fn offset(self) -> i64 {
        i64::from(self.number.saturating_sub(1)) * i64::from(self.size)
    }

    /// Rows to fetch.
    #[must_use]
    pub fn limit(self) -> i64 {
        i64::from(self.size)
    }
}

/// One page of a list: its rows and how many there are in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// This page's rows.
    pub rows: Vec<T>,
    /// Rows in the whole list.
    pub total: u64,
    /// Which page this is.
    pub request: PageRequest,
}

impl<T> Page<T> {
    /// The page `request` asks for out of a whole list already in hand: for lists bounded by
    /// one record (a case's chronology), never for a table.
    #[must_use]
    pub fn of_list(mut all: Vec<T>, request: PageRequest) -> Self {
        let total = all.len() as u64;
        let start = usize::try_from(request.offset()).unwrap_or(usize::MAX).min(all.len());
        let end = start.saturating_add(request.size as usize).min(all.len());
        all.truncate(end);
        let rows = all.split_off(start);
        Self { rows, total, request }
    }

    /// How many pages the list has (at least one, so an empty list shows as one empty page).
    #[must_use]
    pub fn pages(&self) -> u32 {
        let size = u64::from(self.request.size.max(1));
        u32::try_from(self.total.div_ceil(size)).unwrap_or(u32::MAX).max(1)
    }

    /// The same page with its rows turned into something else.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { rows: self.rows.into_iter().map(f).collect(), total: self.total, request: self.request }
    }

    /// "Showing 26 to 50 of 777", or nothing for an empty list.
    #[must_use]
    pub fn showing(&self) -> String {
        if self.total == 0 || self.rows.is_empty() {
            return String::new();
        }
        let first = u64::try_from(self.request.offset()).unwrap_or(0) + 1;
        let last = first + self.rows.len() as u64 - 1;
        format!("Showing {first} to {last} of {}", self.total)
    }
}

/// One item of the pagination links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageLink {
    /// A page's number, and whether it is the one shown.
    Number(u32, bool),
    /// Pages left out.
    Gap,
}

/// The numbered links for page `current` of `pages`: the first and last, the current one and
/// those either side, with a gap wherever pages are left out (GOV.UK pagination's pattern).
#[must_use]
pub fn links(current: u32, pages: u32) -> Vec<PageLink> {
    let mut out = Vec::new();
    let mut last_shown = 0;
    for n in 1..=pages {
        let near = n == 1 || n == pages || n.abs_diff(current) <= 1;
        if !near {
            continue;
        }
        if n > last_shown + 1 {
            out.push(PageLink::Gap);
        }
        out.push(PageLink::Number(n, n == current));
        last_shown = n;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_asks_for_its_rows() {
        let p = PageRequest::from_query(Some("3"));
        assert_eq!((p.offset(), p.limit()), (50, 25));
        assert_eq!(PageRequest::from_query(Some("0")).number, 1);
        assert_eq!(PageRequest::from_query(Some("x")).number, 1);
        assert_eq!(PageRequest::from_query(None).number, 1);
    }

    #[test]
    fn a_page_counts_its_pages_and_says_what_it_shows() {
        let page = Page { rows: vec![0; 25], total: 777, request: PageRequest::from_query(Some("2")) };
        assert_eq!(page.pages(), 32);
        assert_eq!(page.showing(), "Showing 26 to 50 of 777");
        let empty: Page<u8> = Page { rows: vec![], total: 0, request: PageRequest::default() };
        assert_eq!((empty.pages(), empty.showing()), (1, String::new()));
    }

    #[test]
    fn links_show_the_ends_and_the_neighbours_with_gaps() {
        use PageLink::{Gap, Number as N};
        assert_eq!(links(1, 1), [N(1, true)]);
        assert_eq!(links(1, 3), [N(1, true), N(2, false), N(3, false)]);
        assert_eq!(links(5, 10), [N(1, false), Gap, N(4, false), N(5, true), N(6, false), Gap, N(10, false)]);
        assert_eq!(links(2, 10), [N(1, false), N(2, true), N(3, false), Gap, N(10, false)]);
        assert_eq!(links(3, 4), [N(1, false), N(2, false), N(3, true), N(4, false)]);
    }

    #[test]
    fn a_list_in_hand_gives_the_page_asked_for() {
        let all: Vec<u32> = (1..=60).collect();
        let second = Page::of_list(all.clone(), PageRequest { number: 2, size: 25 });
        assert_eq!(second.rows.first(), Some(&26));
        assert_eq!(second.rows.len(), 25);
        assert_eq!(second.total, 60);
        let last = Page::of_list(all.clone(), PageRequest { number: 3, size: 25 });
        assert_eq!(last.rows, (51..=60).collect::<Vec<_>>());
        assert!(Page::of_list(all, PageRequest { number: 9, size: 25 }).rows.is_empty());
    }
}
