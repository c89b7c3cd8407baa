"""Ten small seeds, two per intent, for end-to-end tests that must not depend on seeds/fine_tune.csv."""

from __future__ import annotations

from pathlib import Path

from conftest import write_csv

ROWS = [
    ["P1", "price", "Đà Lạt", "Vé vào Thung lũng Tình Yêu bao nhiêu tiền ạ?",
     "Dạ, vé vào Thung lũng Tình Yêu khoảng 250.000 đồng cho người lớn ạ. Giá có thể thay đổi theo mùa, bạn nên kiểm tra lại trước khi đi nha."],
    ["P2", "price", "Nha Trang", "Đi cáp treo Hòn Tằm giá bao nhiêu?",
     "Dạ, vé cáp treo kèm tắm bùn ở Hòn Tằm khoảng 800.000 đồng cho người lớn ạ. Bạn nên đặt trước vào mùa cao điểm nha."],
    ["A1", "address", "Đà Lạt", "Chợ đêm Đà Lạt nằm ở đâu ạ?",
     "Dạ, chợ đêm Đà Lạt nằm ở trung tâm thành phố, ngay khu chợ Đà Lạt, đi bộ vài phút từ hồ Xuân Hương là tới ạ."],
    ["A2", "address", "Hội An", "Chùa Cầu ở Hội An nằm ở đâu vậy?",
     "Dạ, Chùa Cầu nằm ở đầu phố Trần Phú, trong khu phố cổ Hội An ạ. Bạn đi bộ dọc phố cổ là thấy ngay nha."],
    ["S1", "suggestion", "Đà Lạt", "Đà Lạt có quán cà phê nào view đẹp không ạ?",
     "Dạ, mình gợi ý bạn mấy kiểu quán này nha: quán trên đồi nhìn ra rừng thông, quán ven hồ Tuyền Lâm và các quán có sân vườn hoa ở ngoại ô ạ."],
    ["S2", "suggestion", "Đà Nẵng", "Đến Đà Nẵng nên ăn món gì?",
     "Dạ, đến Đà Nẵng bạn nên thử mì Quảng, bánh tráng cuốn thịt heo, bún chả cá và hải sản ven biển ạ. Chúc bạn ăn ngon nha."],
    ["I1", "itinerary", "Đà Lạt", "Lịch trình Đà Lạt 2 ngày 1 đêm như thế nào?",
     "Dạ, mình gợi ý thế này ạ: ngày 1 dạo hồ Xuân Hương, ghé chợ Đà Lạt và chợ đêm; ngày 2 đi thác Datanla rồi hồ Tuyền Lâm trước khi về nha."],
    ["I2", "itinerary", "Hội An", "Có 1 ngày ở Hội An thì đi đâu trước?",
     "Dạ, buổi sáng bạn dạo phố cổ và Chùa Cầu, buổi chiều đạp xe ra đồng rau Trà Quế, tối thả đèn hoa đăng trên sông Hoài ạ."],
    ["C1", "comparison", "Đà Lạt", "Tháng 12 nên đi Đà Lạt hay Sa Pa?",
     "Dạ, tháng 12 Đà Lạt se lạnh và có mùa hoa dã quỳ, còn Sa Pa rất lạnh, có khi có băng giá ạ. Nếu thích dễ chịu thì chọn Đà Lạt, thích săn băng tuyết thì chọn Sa Pa nha."],
    ["C2", "comparison", "Nha Trang", "Nha Trang với Phú Quốc chỗ nào biển đẹp hơn?",
     "Dạ, Phú Quốc có nhiều bãi hoang sơ và nước trong hơn, còn Nha Trang tiện đi lại, nhiều khách sạn và đảo gần bờ ạ. Tùy bạn thích yên tĩnh hay sôi động nha."],
]


def small_seeds(path: Path) -> Path:
    """Write the ten seeds to path and return it."""
    return write_csv(path, ROWS)
