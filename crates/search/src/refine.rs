//! Refine by example: a query moved toward the hits a doctor marked "relevant" and away from
//! those marked "not relevant" (Rocchio, with the classic SMART weights), per modality; the
//! result stays a unit vector so every index and calibration keeps working unchanged.
use crate::engine::{CaseVectors, Query};
use crate::vector::normalise;

/// Weight of the original query, the relevant examples' mean and the non-relevant examples' mean.
pub const ALPHA: f32 = 1.0;
pub const BETA: f32 = 0.75;
pub const GAMMA: f32 = 0.15;

/// `α·q + β·mean(relevant) − γ·mean(not relevant)`, normalised; `q` itself when there is no example.
pub fn rocchio(q: &[f32], relevant: &[&[f32]], not_relevant: &[&[f32]]) -> Vec<f32> {
    let mut out: Vec<f32> = q.iter().map(|x| ALPHA * x).collect();
    for (group, w) in [(relevant, BETA), (not_relevant, -GAMMA)] {
        let usable: Vec<&&[f32]> = group.iter().filter(|v| v.len() == q.len()).collect();
        if usable.is_empty() {
            continue;
        }
        let k = w / usable.len() as f32;
        for v in usable {
            out.iter_mut().zip(v.iter()).for_each(|(o, x)| *o += k * x);
        }
    }
    normalise(&mut out);
    out
}

fn refs(v: &[Vec<f32>]) -> Vec<&[f32]> {
    v.iter().map(Vec::as_slice).collect()
}

/// The mean of a case's image vectors (its overall look), if it has any.
fn mean_image(c: &CaseVectors) -> Option<Vec<f32>> {
    let first = c.images.first()?;
    let mut m = vec![0.0; first.1.len()];
    for (_, v) in &c.images {
        m.iter_mut().zip(v).for_each(|(a, b)| *a += b / c.images.len() as f32);
    }
    normalise(&mut m);
    Some(m)
}

/// `q` refined by the marked examples: its text vector and each of its image vectors moved.
/// Lab profiles are left as they are (they are compared analyte by analyte, not as vectors).
pub fn refine(q: &Query, relevant: &[CaseVectors], not_relevant: &[CaseVectors]) -> Query {
    let texts = |cs: &[CaseVectors]| cs.iter().filter_map(|c| c.text.clone()).collect::<Vec<_>>();
    let images = |cs: &[CaseVectors]| cs.iter().filter_map(mean_image).collect::<Vec<_>>();
    let (rt, nt, ri, ni) = (texts(relevant), texts(not_relevant), images(relevant), images(not_relevant));
    Query {
        text: q.text.as_ref().map(|t| rocchio(t, &refs(&rt), &refs(&nt))),
        images: q.images.iter().map(|(id, v)| (*id, rocchio(v, &refs(&ri), &refs(&ni)))).collect(),
        labs: q.labs.clone(),
        exclude: q.exclude.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vector::dot;

    fn unit(v: &[f32]) -> Vec<f32> {
        let mut v = v.to_vec();
        normalise(&mut v);
        v
    }

    #[test]
    fn the_query_moves_toward_relevant_and_away_from_not_relevant_examples() {
        let q = unit(&[1.0, 0.0, 0.0]);
        let good = unit(&[0.0, 1.0, 0.0]);
        let bad = unit(&[0.0, 0.0, 1.0]);
        let r = rocchio(&q, &[&good], &[&bad]);
        assert!((dot(&r, &r) - 1.0).abs() < 1e-5, "unit length");
        assert!(dot(&r, &good) > dot(&q, &good));
        assert!(dot(&r, &bad) < dot(&q, &bad));
        assert_eq!(rocchio(&q, &[], &[]), q, "no example: the query itself");
        // Vectors of another size (another model) are ignored, never mixed in.
        assert_eq!(rocchio(&q, &[&[1.0, 0.0][..]], &[]), q);
    }

    #[test]
    fn a_query_is_refined_in_text_and_every_image() {
        let q = Query { text: Some(unit(&[1.0, 0.0])), images: vec![(Some(7), unit(&[1.0, 0.0]))], labs: None, exclude: vec![1] };
        let example = CaseVectors { text: Some(unit(&[0.0, 1.0])), images: vec![(3, unit(&[0.0, 1.0])), (4, unit(&[0.0, 1.0]))], ..CaseVectors::default() };
        let r = refine(&q, &[example], &[]);
        assert!(r.text.as_ref().unwrap()[1] > 0.3);
        assert!(r.images[0].1[1] > 0.3);
        assert_eq!((r.images[0].0, r.exclude.clone()), (Some(7), vec![1]));
    }
}
