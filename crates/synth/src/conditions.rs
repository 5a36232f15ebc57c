//! The conditions synthetic cases are drawn from: each one's label (diagnosis, topic, body
//! region, modality), the finding planted in its images, the phrases its notes are made of and
//! the lab abnormalities it carries.
use precedent_types::Modality;

/// The anatomical backdrop drawn for a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    Brain,
    Chest,
    Abdomen,
    Spine,
    Limb,
}

impl Region {
    pub fn label(self) -> &'static str {
        match self {
            Region::Brain => "Head and neck",
            Region::Chest => "Thorax",
            Region::Abdomen => "Abdomen",
            Region::Spine => "Spine and muscles",
            Region::Limb => "Extremities",
        }
    }
}

/// What is planted in the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finding {
    BrightMass,
    RingLesion,
    DarkWedge,
    Consolidation,
    AirCrescent,
    BrightDot,
    CorticalBreak,
    Bulge,
}

/// A lab abnormality typical of a condition: analyte index and how many SDs off normal.
type LabShift = (&'static str, f32);

/// One condition: the label every case generated from it carries.
pub struct Condition {
    pub diagnosis: &'static str,
    pub topic: &'static str,
    pub region: Region,
    pub modality: Modality,
    pub finding: Finding,
    pub complaints: &'static [&'static str],
    pub exam: &'static [&'static str],
    pub findings_text: &'static [&'static str],
    pub labs: &'static [LabShift],
}

pub const CONDITIONS: &[Condition] = &[
    Condition {
        diagnosis: "Acute appendicitis",
        topic: "Inflammation",
        region: Region::Abdomen,
        modality: Modality::Ct,
        finding: Finding::BrightDot,
        complaints: &[
            "periumbilical pain migrating to the right lower quadrant",
            "right lower abdominal pain with nausea and anorexia",
            "fever and right iliac fossa pain since yesterday",
        ],
        exam: &["tenderness at McBurney's point with guarding", "rebound tenderness in the right lower quadrant", "positive Rovsing sign, low-grade fever"],
        findings_text: &["dilated appendix with periappendiceal fat stranding", "appendicolith with thickened enhancing appendiceal wall"],
        labs: &[("WBC", 3.0), ("CRP", 3.5), ("Neutrophils", 2.5)],
    },
    Condition {
        diagnosis: "Ischaemic stroke, left MCA territory",
        topic: "Vascular",
        region: Region::Brain,
        modality: Modality::Mr,
        finding: Finding::DarkWedge,
        complaints: &[
            "sudden right-sided weakness and slurred speech",
            "acute onset aphasia and right arm weakness",
            "woke with right facial droop and difficulty speaking",
        ],
        exam: &["right hemiparesis and expressive aphasia", "right facial droop, pronator drift of the right arm", "NIHSS 12, right hemianopia"],
        findings_text: &["restricted diffusion in the left MCA territory", "wedge-shaped cortical infarct in the left frontoparietal lobe"],
        labs: &[("Glucose", 1.5), ("Cholesterol", 2.0), ("LDL", 2.0)],
    },
    Condition {
        diagnosis: "Glioblastoma",
        topic: "Neoplasm, brain",
        region: Region::Brain,
        modality: Modality::Mr,
        finding: Finding::RingLesion,
        complaints: &[
            "progressive headaches and personality change over weeks",
            "new-onset seizure and morning headaches",
            "worsening confusion and left-sided weakness",
        ],
        exam: &["papilloedema and mild left hemiparesis", "disorientation, left pronator drift", "no focal deficit, bilateral papilloedema"],
        findings_text: &["ring-enhancing mass with central necrosis and surrounding oedema", "heterogeneous enhancing mass crossing the corpus callosum"],
        labs: &[],
    },
    Condition {
        diagnosis: "Community-acquired pneumonia",
        topic: "Infection",
        region: Region::Chest,
        modality: Modality::Xray,
        finding: Finding::Consolidation,
        complaints: &[
            "productive cough, fever and pleuritic chest pain",
            "three days of fever, rigors and cough with rusty sputum",
            "shortness of breath and fever with green sputum",
        ],
        exam: &[
            "bronchial breathing and crackles at the right base",
            "dullness to percussion at the right lower zone",
            "tachypnoea, oxygen saturation 91% on air, coarse crackles",
        ],
        findings_text: &["lobar consolidation with air bronchograms in the right lower lobe", "patchy airspace opacity in the right lower zone"],
        labs: &[("WBC", 2.5), ("CRP", 4.0), ("Neutrophils", 2.5)],
    },
    Condition {
        diagnosis: "Spontaneous pneumothorax",
        topic: "Trauma and air",
        region: Region::Chest,
        modality: Modality::Xray,
        finding: Finding::AirCrescent,
        complaints: &[
            "sudden sharp left chest pain and breathlessness",
            "acute pleuritic pain and dyspnoea in a tall young smoker",
            "sudden breathlessness while at rest",
        ],
        exam: &[
            "reduced breath sounds and hyper-resonance on the left",
            "absent breath sounds over the left apex",
            "tachycardia with reduced chest expansion on the left",
        ],
        findings_text: &["visible pleural line with absent lung markings peripherally", "left apical pneumothorax without mediastinal shift"],
        labs: &[],
    },
    Condition {
        diagnosis: "Pulmonary embolism",
        topic: "Vascular",
        region: Region::Chest,
        modality: Modality::Ct,
        finding: Finding::BrightMass,
        complaints: &[
            "sudden dyspnoea and pleuritic chest pain after a long flight",
            "breathlessness and haemoptysis ten days after knee surgery",
            "syncope with acute shortness of breath",
        ],
        exam: &[
            "tachycardia, tachypnoea and a swollen left calf",
            "hypoxia with clear lungs on auscultation",
            "raised jugular venous pressure, heart rate 118",
        ],
        findings_text: &["filling defects in the segmental pulmonary arteries", "saddle embolus with right ventricular strain"],
        labs: &[("D-dimer", 4.0), ("Troponin I", 2.0)],
    },
    Condition {
        diagnosis: "Renal calculus with obstruction",
        topic: "Calculi",
        region: Region::Abdomen,
        modality: Modality::Ct,
        finding: Finding::BrightDot,
        complaints: &["colicky left flank pain radiating to the groin", "severe intermittent loin pain with haematuria", "writhing flank pain and vomiting"],
        exam: &["left renal angle tenderness, unable to lie still", "costovertebral angle tenderness, afebrile", "microscopic haematuria on dipstick"],
        findings_text: &[
            "obstructing calculus at the left vesicoureteric junction with hydronephrosis",
            "dense calculus in the proximal ureter with perinephric stranding",
        ],
        labs: &[("Creatinine", 2.0), ("Urea", 1.5)],
    },
    Condition {
        diagnosis: "Hepatocellular carcinoma",
        topic: "Neoplasm, abdomen",
        region: Region::Abdomen,
        modality: Modality::Ct,
        finding: Finding::BrightMass,
        complaints: &[
            "weight loss and right upper quadrant discomfort in a patient with cirrhosis",
            "abdominal distension and early satiety, known hepatitis B",
            "fatigue, jaundice and weight loss",
        ],
        exam: &["hepatomegaly with an irregular liver edge", "ascites and palmar erythema", "jaundice with a palpable liver mass"],
        findings_text: &["arterially enhancing liver mass with washout on portal venous phase", "large heterogeneous hepatic mass with portal vein thrombus"],
        labs: &[("ALT", 2.5), ("AST", 3.0), ("Bilirubin", 2.5), ("Albumin", -2.0)],
    },
    Condition {
        diagnosis: "Lumbar disc herniation",
        topic: "Degenerative",
        region: Region::Spine,
        modality: Modality::Mr,
        finding: Finding::Bulge,
        complaints: &[
            "low back pain radiating down the left leg",
            "sciatica with numbness of the lateral foot",
            "back pain after lifting, shooting pain below the knee",
        ],
        exam: &[
            "positive straight leg raise at 40 degrees on the left",
            "reduced ankle reflex and weak plantar flexion",
            "paraspinal spasm and dermatomal sensory loss",
        ],
        findings_text: &["posterolateral disc extrusion at L5-S1 compressing the S1 root", "broad-based disc protrusion at L4-L5 with canal narrowing"],
        labs: &[],
    },
    Condition {
        diagnosis: "Osteosarcoma of the distal femur",
        topic: "Neoplasm, bone",
        region: Region::Limb,
        modality: Modality::Xray,
        finding: Finding::CorticalBreak,
        complaints: &["knee pain worse at night in a teenager", "painful swelling above the knee for two months", "limp and thigh pain without trauma"],
        exam: &["firm tender mass at the distal thigh", "warm swelling above the knee with reduced flexion", "palpable bony mass, normal distal pulses"],
        findings_text: &["aggressive metaphyseal lesion with sunburst periosteal reaction", "mixed lytic-sclerotic lesion with Codman triangle"],
        labs: &[("Alkaline phosphatase", 3.0), ("LDH", 2.0)],
    },
];
